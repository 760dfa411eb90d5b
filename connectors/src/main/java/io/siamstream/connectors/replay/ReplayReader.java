package io.siamstream.connectors.replay;

import io.siamstream.connectors.idx.LabeledImages;
import io.siamstream.record.ImageRecord;
import io.siamstream.seed.ReplayOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.core.io.InputStatus;

/**
 * Emits the occurrences of its splits one at a time: sequence number s is position (s mod size) of epoch
 * (s div size), and that position holds the image the epoch's seeded shuffle puts there. The split's position is
 * advanced after each record, so a checkpoint resumes exactly after the last record emitted before it.
 */
final class ReplayReader implements SourceReader<ImageRecord, ReplaySplit> {

    private final ReplayDataset dataset;
    private final long runSeed;
    private final long endSeq;
    private final ArrayDeque<ReplaySplit> splits = new ArrayDeque<>();
    private LabeledImages images;
    private long cachedEpoch = -1;
    private int[] cachedOrder;
    private boolean noMoreSplits;
    private CompletableFuture<Void> available = new CompletableFuture<>();

    ReplayReader(ReplayDataset dataset, long runSeed, long epochs) throws Exception {
        this.dataset = dataset;
        this.runSeed = runSeed;
        this.images = dataset.load();
        this.endSeq = epochs <= 0 ? Long.MAX_VALUE : epochs * images.count();
    }

    @Override
    public void start() {}

    @Override
    public InputStatus pollNext(ReaderOutput<ImageRecord> output) {
        ReplaySplit split = splits.peek();
        while (split != null && split.nextSeq() >= endSeq) {
            splits.poll();
            split = splits.peek();
        }
        if (split == null) {
            if (noMoreSplits) {
                return InputStatus.END_OF_INPUT;
            }
            available = new CompletableFuture<>();
            return InputStatus.NOTHING_AVAILABLE;
        }
        long seq = split.nextSeq();
        output.collect(record(seq));
        splits.poll();
        splits.addFirst(split.at(seq + split.count()));
        return InputStatus.MORE_AVAILABLE;
    }

    ImageRecord record(long seq) {
        int size = images.count();
        long epoch = seq / size;
        int id = order(epoch)[(int) (seq % size)];
        int pixels = images.rows() * images.cols();
        byte[] data = Arrays.copyOfRange(images.pixels(), id * pixels, (id + 1) * pixels);
        int label = images.labels() == null ? ImageRecord.NO_LABEL : images.label(id);
        return new ImageRecord(id, seq, epoch, 1, images.rows(), images.cols(), data, label);
    }

    private int[] order(long epoch) {
        if (epoch != cachedEpoch) {
            cachedOrder = ReplayOrder.shuffled(images.count(), runSeed, epoch);
            cachedEpoch = epoch;
        }
        return cachedOrder;
    }

    @Override
    public List<ReplaySplit> snapshotState(long checkpointId) {
        return new ArrayList<>(splits);
    }

    @Override
    public CompletableFuture<Void> isAvailable() {
        return available;
    }

    @Override
    public void addSplits(List<ReplaySplit> newSplits) {
        splits.addAll(newSplits);
        available.complete(null);
    }

    @Override
    public void notifyNoMoreSplits() {
        noMoreSplits = true;
        available.complete(null);
    }

    @Override
    public void close() {
        images = null;
    }

    @Override
    public String toString() {
        return "ReplayReader{" + dataset + "}";
    }
}
