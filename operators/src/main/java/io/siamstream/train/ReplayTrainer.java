package io.siamstream.train;

import io.siamstream.augment.Image;
import io.siamstream.augment.ViewPolicy;
import io.siamstream.augment.Views;
import io.siamstream.record.ViewPair;
import io.siamstream.seed.ReplayOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Trains a learner on an in-memory dataset replayed epoch after epoch, without Flink: the reference loop that the
 * streaming job reproduces, and what the demo, the ablation tests and the benchmarks run.
 *
 * <p>Everything follows from the learner's step count, as in the streaming job's sequence batching, and batches are
 * formed by the same {@link SequenceBatcher}: batch b holds the occurrences with sequence numbers [b x B, (b + 1) x B),
 * occurrence s is image {@link ReplayOrder}(epoch s div size)[s mod size], and view v of image r in epoch e is drawn
 * from (run seed, r, e, v). Batches run across epoch boundaries. A restored learner therefore continues on exactly
 * the batches an uninterrupted one would have seen. Given the seqs that the job lost (dead-lettered by a view, timed
 * out in pairing), {@link #skipping} trains the same smaller batches the job trains.
 */
public final class ReplayTrainer {

    private final Learner learner;
    private final List<Image> images;
    private final ViewPolicy view1;
    private final ViewPolicy view2;
    private final long runSeed;
    private final int batchSize;
    private final Set<Long> skipped;
    private long cachedEpoch = -1;
    private int[] cachedOrder;

    public ReplayTrainer(Learner learner, List<Image> images, ViewPolicy view1, ViewPolicy view2, long runSeed) {
        this(learner, images, view1, view2, runSeed, Set.of());
    }

    private ReplayTrainer(Learner learner, List<Image> images, ViewPolicy view1, ViewPolicy view2, long runSeed,
                          Set<Long> skipped) {
        this.learner = learner;
        this.images = images;
        this.view1 = view1;
        this.view2 = view2;
        this.runSeed = runSeed;
        this.batchSize = learner.config().batchSize();
        this.skipped = Set.copyOf(skipped);
        if (images.isEmpty()) {
            throw new IllegalArgumentException("no images to replay");
        }
    }

    /** The same loop, with the pairs of {@code seqs} missing from their batches, as skip markers leave them in the job. */
    public ReplayTrainer skipping(Set<Long> seqs) {
        return new ReplayTrainer(learner, images, view1, view2, runSeed, seqs);
    }

    /** Runs {@code steps} more batches (applied or skipped steps), reporting each result. */
    public StepResult train(long steps, Consumer<StepResult> listener) {
        StepResult last = null;
        for (long i = 0; i < steps; i++) {
            last = step(learner.steps() + learner.skippedSteps());
            listener.accept(last);
        }
        return last;
    }

    private StepResult step(long index) {
        // one batch at a time, every seq resolved: the batcher closes exactly batch `index`
        SequenceBatcher<ViewPair> batcher = new SequenceBatcher<>(batchSize, batchSize, index);
        List<SequenceBatcher.Batch<ViewPair>> closed = new ArrayList<>(1);
        for (long seq = index * batchSize; seq < (index + 1) * batchSize; seq++) {
            if (skipped.contains(seq)) {
                batcher.skip(seq, closed);
            } else {
                batcher.offer(seq, pair(seq), closed);
            }
        }
        return learner.step(closed.get(0).pairs());
    }

    /** The view pair of batch {@code index}: occurrences [index x B, (index + 1) x B), none skipped. */
    public ViewBatch batch(long index) {
        List<ViewPair> pairs = new ArrayList<>(batchSize);
        for (long seq = index * batchSize; seq < (index + 1) * batchSize; seq++) {
            pairs.add(pair(seq));
        }
        return ViewBatch.of(pairs);
    }

    /** Occurrence {@code seq}'s two views, as the job's augmentation operators make them. */
    private ViewPair pair(long seq) {
        long epoch = seq / images.size();
        int record = order(epoch)[(int) (seq % images.size())];
        Image image = images.get(record);
        return new ViewPair(record, seq, epoch, image.channels(), view1.outputSize(), view1.outputSize(),
                Views.make(view1, image, runSeed, record, epoch, 0), Views.make(view2, image, runSeed, record, epoch, 1),
                io.siamstream.record.ImageRecord.NO_LABEL);
    }

    private int[] order(long epoch) {
        if (epoch != cachedEpoch) {
            cachedOrder = ReplayOrder.shuffled(images.size(), runSeed, epoch);
            cachedEpoch = epoch;
        }
        return cachedOrder;
    }
}
