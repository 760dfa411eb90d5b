package io.siamstream.connectors.replay;

import io.siamstream.connectors.dataset.ImageSet;
import io.siamstream.connectors.dataset.Reject;
import io.siamstream.record.ImageRecord;
import io.siamstream.seed.ReplayOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.core.io.InputStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Emits the occurrences of its splits one at a time: sequence number s is position (s mod size) of epoch
 * (s div size), and that position holds the image the epoch's seeded shuffle puts there. The split's position is
 * advanced after each record, so a checkpoint resumes exactly after the last record emitted before it.
 *
 * <p>Only the good images are numbered. The bad input found while loading (the dataset's rejects, the same on every
 * reader) is emitted once, by the reader that holds split 0, before that split's first image: reject k as a record
 * with {@link ImageRecord#error} set, id and seq {@code -1 - k} (outside every batch). Split 0's position counts the
 * rejects emitted, so a restore neither repeats nor loses one.
 */
final class ReplayReader implements SourceReader<ImageRecord, ReplaySplit> {

    private static final Logger LOG = LoggerFactory.getLogger(ReplayReader.class);

    private final ReplayDataset dataset;
    private final long runSeed;
    private final long endSeq;
    private final ArrayDeque<ReplaySplit> splits = new ArrayDeque<>();
    private ImageSet images;
    private List<Reject> rejects;
    private long cachedEpoch = -1;
    private int[] cachedOrder;
    private boolean noMoreSplits;
    private CompletableFuture<Void> available = new CompletableFuture<>();

    ReplayReader(ReplayDataset dataset, long runSeed, long epochs) throws Exception {
        this.dataset = dataset;
        this.runSeed = runSeed;
        this.images = dataset.load();
        this.rejects = images.rejects();
        if (images.count() == 0) {
            LOG.warn("{}: no usable image, only {} reject(s): nothing to replay", dataset, rejects.size());
        } else {
            LOG.info("{}: {} images of {}x{}x{}, {} reject(s)", dataset, images.count(), images.channels(),
                    images.height(), images.width(), rejects.size());
        }
        this.endSeq = images.count() == 0 ? 0 : epochs <= 0 ? Long.MAX_VALUE : epochs * images.count();
    }

    /** True when the split has nothing left to emit: no reject, no occurrence before the end. */
    private boolean finished(ReplaySplit split) {
        return split.nextSeq() >= endSeq && (!split.carriesRejects() || split.nextReject() >= rejects.size());
    }

    @Override
    public void start() {}

    @Override
    public InputStatus pollNext(ReaderOutput<ImageRecord> output) {
        ReplaySplit split = splits.peek();
        while (split != null && finished(split)) {
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
        if (split.carriesRejects() && split.nextReject() < rejects.size()) {
            output.collect(reject(split.nextReject()));
            splits.poll();
            splits.addFirst(split.afterReject());
            return InputStatus.MORE_AVAILABLE;
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
        return new ImageRecord(id, seq, epoch, images.channels(), images.height(), images.width(), images.image(id),
                images.label(id));
    }

    /** Reject {@code k} of the dataset as a record for the dead letter. */
    ImageRecord reject(int k) {
        Reject r = rejects.get(k);
        return ImageRecord.rejected(-1L - k, -1L - k, r.reason(), r.detail());
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
        for (ReplaySplit split : newSplits) {
            if (split.carriesRejects() && split.nextReject() < rejects.size()) {
                LOG.warn("{}: {} of its {} reject(s) go to the dead letter (the first: {})", dataset,
                        rejects.size() - split.nextReject(), rejects.size(), rejects.get(split.nextReject()));
            }
        }
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
        rejects = null;
    }

    @Override
    public String toString() {
        return "ReplayReader{" + dataset + "}";
    }
}
