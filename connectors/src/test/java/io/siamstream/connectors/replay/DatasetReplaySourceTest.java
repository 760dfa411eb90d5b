package io.siamstream.connectors.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.connectors.dataset.ImageSet;
import io.siamstream.connectors.TestFiles;
import io.siamstream.connectors.cifar.Cifar10;
import io.siamstream.record.ImageRecord;
import io.siamstream.seed.ReplayOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

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
        ImageSet images = SAMPLE.load();
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
    void aCorruptDatasetReplaysItsGoodImagesAndEmitsEachRejectOnce(@TempDir Path dir) throws Exception {
        byte[] batch = TestFiles.cifarBatch(0, 0, 1, 2, 3, 4, 5, 11, 6);
        TestFiles.bytes(dir.resolve("data_batch_1.bin"), Arrays.copyOf(batch, batch.length - 5)); // last record cut
        TestFiles.bytes(dir.resolve("data_batch_2.bin"), TestFiles.cifarBatch(8, 7, 8, 9));
        ReplayDataset cifar = ReplayDataset.cifar10(dir, Cifar10.Split.TRAIN);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.getConfig().disableGenericTypes();
        List<ImageRecord> records = new ArrayList<>();
        try (CloseableIterator<ImageRecord> it = env.fromSource(new DatasetReplaySource(cifar, 3, 2, 3),
                WatermarkStrategy.noWatermarks(), "replay").executeAndCollect()) {
            it.forEachRemaining(records::add);
        }
        List<ImageRecord> rejects = records.stream().filter(ImageRecord::hasError).toList();
        assertThat(rejects).extracting(r -> r.error).containsExactly("unknown-label", "truncated");
        assertThat(rejects).extracting(r -> r.seq).containsExactly(-1L, -2L);
        assertThat(rejects.get(0).errorDetail).contains("data_batch_1.bin", "record 6 has label 11");
        assertThat(rejects).allSatisfy(r -> assertThat(r.pixels).isNull());

        List<ImageRecord> images = records.stream().filter(r -> !r.hasError()).toList();
        int size = 6 + 3; // records 0..5 of batch 1 and the three of batch 2
        assertThat(images).hasSize(2 * size);
        assertThat(images).extracting(r -> r.seq).doesNotHaveDuplicates()
                .allMatch(seq -> seq >= 0 && seq < 2L * size);
        ImageSet loaded = cifar.load();
        for (ImageRecord r : images) {
            assertThat(r.channels).isEqualTo(3);
            assertThat(r.height).isEqualTo(32);
            int expectedId = ReplayOrder.shuffled(size, 3, r.epoch)[(int) (r.seq % size)];
            assertThat(r.id).isEqualTo(expectedId);
            assertThat(r.label).isEqualTo(loaded.label(expectedId));
            assertThat(r.pixels).isEqualTo(loaded.image(expectedId));
        }
    }

    @Test
    void aRestoreAmongTheRejectsNeitherRepeatsNorLosesOne(@TempDir Path root) throws Exception {
        for (int i = 0; i < 4; i++) {
            TestFiles.png(root.resolve("c" + i % 2 + "/good" + i + ".png"), TestFiles.rgbImage(8, 8, i));
        }
        TestFiles.bytes(root.resolve("c0/bad1.png"), new byte[] {1, 2, 3});
        TestFiles.bytes(root.resolve("c1/bad2.png"), new byte[] {4, 5, 6});
        TestFiles.png(root.resolve("c1/big.png"), TestFiles.rgbImage(16, 16, 9));
        ReplayDataset folder = ReplayDataset.imageFolder(root, 3, 8);

        List<ImageRecord> uninterrupted = new ArrayList<>();
        try (ReplayReader reader = new ReplayReader(folder, 5, 1)) {
            reader.addSplits(List.of(new ReplaySplit(0, 2, 0)));
            reader.notifyNoMoreSplits();
            poll(reader, 10, uninterrupted);
        }
        // 3 rejects, then the 2 images of split 0 (seq 0 and 2), then the end
        assertThat(uninterrupted).extracting(r -> r.error).containsExactly("undecodable", "undecodable", "wrong-shape",
                null, null);
        assertThat(uninterrupted).extracting(r -> r.seq).containsExactly(-1L, -2L, -3L, 0L, 2L);

        for (int cut = 0; cut <= 5; cut++) {
            List<ImageRecord> resumed = new ArrayList<>();
            List<ReplaySplit> checkpoint;
            try (ReplayReader reader = new ReplayReader(folder, 5, 1)) {
                reader.addSplits(List.of(new ReplaySplit(0, 2, 0)));
                poll(reader, cut, resumed);
                checkpoint = reader.snapshotState(1);
            }
            ReplaySplitSerializer.Split serializer = new ReplaySplitSerializer.Split();
            List<ReplaySplit> restored = new ArrayList<>();
            for (ReplaySplit split : checkpoint) {
                restored.add(serializer.deserialize(serializer.getVersion(), serializer.serialize(split)));
            }
            try (ReplayReader reader = new ReplayReader(folder, 5, 1)) {
                reader.addSplits(restored);
                reader.notifyNoMoreSplits();
                poll(reader, 10, resumed);
            }
            assertThat(resumed).as("restored after " + cut + " records").isEqualTo(uninterrupted);
        }

        // split 1 emits no rejects
        List<ImageRecord> other = new ArrayList<>();
        try (ReplayReader reader = new ReplayReader(folder, 5, 1)) {
            reader.addSplits(List.of(new ReplaySplit(1, 2, 1)));
            reader.notifyNoMoreSplits();
            poll(reader, 10, other);
        }
        assertThat(other).extracting(r -> r.seq).containsExactly(1L, 3L);
    }

    @Test
    void aDatasetWithoutGoodImagesEmitsItsRejectsAndEnds(@TempDir Path dir) throws Exception {
        TestFiles.bytes(dir.resolve("data_batch_1.bin"), new byte[100]);
        List<ImageRecord> out = new ArrayList<>();
        try (ReplayReader reader = new ReplayReader(ReplayDataset.cifar10(dir, Cifar10.Split.TRAIN), 1, 0)) {
            reader.addSplits(List.of(new ReplaySplit(0, 1, 0)));
            reader.notifyNoMoreSplits();
            Collecting collecting = new Collecting(out);
            assertThat(reader.pollNext(collecting)).isEqualTo(InputStatus.MORE_AVAILABLE);
            assertThat(reader.pollNext(collecting)).isEqualTo(InputStatus.END_OF_INPUT);
        }
        assertThat(out).extracting(r -> r.error).containsExactly("truncated");
    }

    @Test
    void version1SplitStateRestoresWithNoRejectEmitted() throws Exception {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
        out.writeInt(0);
        out.writeInt(2);
        out.writeLong(42);
        ReplaySplit split = new ReplaySplitSerializer.Split().deserialize(1, bytes.toByteArray());
        assertThat(split).isEqualTo(new ReplaySplit(0, 2, 42, 0));
        assertThatThrownBy(() -> new ReplaySplitSerializer.Split().deserialize(3, bytes.toByteArray()))
                .hasMessageContaining("version 3");
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
