package io.siamstream.connectors.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.connectors.idx.LabeledImages;
import io.siamstream.record.ImageRecord;
import io.siamstream.seed.ReplayOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class DatasetReplaySourceTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final ReplayDataset SAMPLE = ReplayDataset.bundled(FashionMnist.Split.TEST);

    @Test
    void everyOccurrenceOfEveryEpochArrivesOnceInTheSeededOrder() throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.getConfig().disableGenericTypes();
        List<ImageRecord> records = new ArrayList<>();
        try (CloseableIterator<ImageRecord> it = env.fromSource(new DatasetReplaySource(SAMPLE, 9, 2, 3),
                WatermarkStrategy.noWatermarks(), "replay").executeAndCollect()) {
            it.forEachRemaining(records::add);
        }
        LabeledImages images = SAMPLE.load();
        assertThat(records).hasSize(2 * images.count());
        Set<Long> seqs = new HashSet<>();
        for (ImageRecord r : records) {
            assertThat(seqs.add(r.seq)).isTrue();
            assertThat(r.epoch).isEqualTo(r.seq / images.count());
            int expectedId = ReplayOrder.shuffled(images.count(), 9, r.epoch)[(int) (r.seq % images.count())];
            assertThat(r.id).isEqualTo(expectedId);
            assertThat(r.label).isEqualTo(images.label(expectedId));
            assertThat(r.pixels).hasSize(28 * 28);
        }
        // the two epochs are shuffled differently
        assertThat(ReplayOrder.shuffled(images.count(), 9, 0)).isNotEqualTo(ReplayOrder.shuffled(images.count(), 9, 1));
    }

    @Test
    void aRestoredReaderContinuesAfterTheLastRecordItEmitted() throws Exception {
        List<ImageRecord> uninterrupted = new ArrayList<>();
        try (ReplayReader reader = new ReplayReader(SAMPLE, 5, 1)) {
            reader.addSplits(List.of(new ReplaySplit(1, 2, 1)));
            reader.notifyNoMoreSplits();
            poll(reader, 20, uninterrupted);
        }
        List<ImageRecord> resumed = new ArrayList<>();
        List<ReplaySplit> checkpoint;
        try (ReplayReader reader = new ReplayReader(SAMPLE, 5, 1)) {
            reader.addSplits(List.of(new ReplaySplit(1, 2, 1)));
            poll(reader, 7, resumed);
            checkpoint = reader.snapshotState(1);
        }
        ReplaySplitSerializer.Split serializer = new ReplaySplitSerializer.Split();
        ReplaySplit restored = serializer.deserialize(serializer.getVersion(), serializer.serialize(checkpoint.get(0)));
        assertThat(restored.nextSeq()).isEqualTo(1 + 7 * 2);
        try (ReplayReader reader = new ReplayReader(SAMPLE, 5, 1)) {
            reader.addSplits(List.of(restored));
            poll(reader, 13, resumed);
        }
        assertThat(resumed).isEqualTo(uninterrupted);
        assertThat(uninterrupted).extracting(r -> r.seq).allMatch(s -> s % 2 == 1);
    }

    @Test
    void badSettingsNameTheOption() {
        assertThatThrownBy(() -> new DatasetReplaySource(SAMPLE, 1, -1, 1)).hasMessageContaining("source.epochs");
        assertThatThrownBy(() -> new DatasetReplaySource(SAMPLE, 1, 1, 0)).hasMessageContaining("source.splits");
    }

    private static void poll(ReplayReader reader, int n, List<ImageRecord> into) {
        Collecting out = new Collecting(into);
        for (int i = 0; i < n; i++) {
            reader.pollNext(out);
        }
    }

    /** A ReaderOutput that keeps what it is given. */
    private record Collecting(List<ImageRecord> into) implements ReaderOutput<ImageRecord> {
        @Override
        public void collect(ImageRecord record) {
            into.add(record);
        }

        @Override
        public void collect(ImageRecord record, long timestamp) {
            into.add(record);
        }

        @Override
        public void emitWatermark(Watermark watermark) {}

        @Override
        public void markIdle() {}

        @Override
        public void markActive() {}

        @Override
        public SourceOutput<ImageRecord> createOutputForSplit(String splitId) {
            return this;
        }

        @Override
        public void releaseOutputForSplit(String splitId) {}
    }
}
