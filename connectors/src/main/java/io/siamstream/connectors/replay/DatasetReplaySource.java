package io.siamstream.connectors.replay;

import io.siamstream.record.ImageRecord;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * A FLIP-27 source that replays a labelled image dataset epoch after epoch, each epoch in the order shuffled from
 * (run seed, epoch), every record carrying its image id, its sequence number and its epoch. Bounded to
 * {@code epochs} epochs, or endless when {@code epochs} is 0. The stream is cut into {@code splits} interleaved
 * splits (by sequence number modulo the split count) whose positions are checkpointed, so after a failure every
 * record after the last checkpoint is emitted again, identically.
 *
 * <p>The dataset may be Fashion-MNIST IDX files, CIFAR-10 binary batches or an image folder ({@link ReplayDataset}).
 * Bad input never fails the source: what cannot be loaded (a truncated file, a wrong header, an undecodable image)
 * is emitted once as a record with {@code error} set (see {@link ReplayReader}), which the augmentation stage sends
 * to the dead letter, and the good images are replayed.
 */
public final class DatasetReplaySource implements Source<ImageRecord, ReplaySplit, List<ReplaySplit>> {

    private static final long serialVersionUID = 1L;

    private final ReplayDataset dataset;
    private final long runSeed;
    private final long epochs;
    private final int splits;

    public DatasetReplaySource(ReplayDataset dataset, long runSeed, long epochs, int splits) {
        if (epochs < 0) {
            throw new IllegalArgumentException("source.epochs: " + epochs + " must be >= 0 (0 = endless)");
        }
        if (splits < 1) {
            throw new IllegalArgumentException("source.splits: " + splits + " must be at least 1");
        }
        this.dataset = dataset;
        this.runSeed = runSeed;
        this.epochs = epochs;
        this.splits = splits;
    }

    @Override
    public Boundedness getBoundedness() {
        return epochs > 0 ? Boundedness.BOUNDED : Boundedness.CONTINUOUS_UNBOUNDED;
    }

    @Override
    public SplitEnumerator<ReplaySplit, List<ReplaySplit>> createEnumerator(SplitEnumeratorContext<ReplaySplit> context) {
        List<ReplaySplit> all = new ArrayList<>(splits);
        for (int i = 0; i < splits; i++) {
            all.add(new ReplaySplit(i, splits, i));
        }
        return new ReplayEnumerator(context, all);
    }

    @Override
    public SplitEnumerator<ReplaySplit, List<ReplaySplit>> restoreEnumerator(
            SplitEnumeratorContext<ReplaySplit> context, List<ReplaySplit> checkpoint) {
        return new ReplayEnumerator(context, checkpoint);
    }

    @Override
    public SimpleVersionedSerializer<ReplaySplit> getSplitSerializer() {
        return new ReplaySplitSerializer.Split();
    }

    @Override
    public SimpleVersionedSerializer<List<ReplaySplit>> getEnumeratorCheckpointSerializer() {
        return new ReplaySplitSerializer.Pending();
    }

    @Override
    public SourceReader<ImageRecord, ReplaySplit> createReader(SourceReaderContext readerContext) throws Exception {
        return new ReplayReader(dataset, runSeed, epochs);
    }
}
