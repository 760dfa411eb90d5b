package io.siamstream.train;

import io.siamstream.augment.Image;
import io.siamstream.augment.ViewPolicy;
import io.siamstream.augment.Views;
import io.siamstream.seed.ReplayOrder;
import java.util.List;
import java.util.function.Consumer;

/**
 * Trains a learner on an in-memory dataset replayed epoch after epoch, without Flink: the reference loop that the
 * streaming job reproduces, and what the demo, the ablation tests and the benchmarks run.
 *
 * <p>Everything follows from the learner's step count, as in the streaming job's sequence batching: batch b holds
 * the occurrences with sequence numbers [b x B, (b + 1) x B), occurrence s is image {@link ReplayOrder}(epoch s div
 * size)[s mod size], and view v of image r in epoch e is drawn from (run seed, r, e, v). Batches run across epoch
 * boundaries. A restored learner therefore continues on exactly the batches an uninterrupted one would have seen.
 */
public final class ReplayTrainer {

    private final Learner learner;
    private final List<Image> images;
    private final ViewPolicy view1;
    private final ViewPolicy view2;
    private final long runSeed;
    private final int batchSize;
    private long cachedEpoch = -1;
    private int[] cachedOrder;

    public ReplayTrainer(Learner learner, List<Image> images, ViewPolicy view1, ViewPolicy view2, long runSeed) {
        this.learner = learner;
        this.images = images;
        this.view1 = view1;
        this.view2 = view2;
        this.runSeed = runSeed;
        this.batchSize = learner.config().batchSize();
        if (images.isEmpty()) {
            throw new IllegalArgumentException("no images to replay");
        }
    }

    /** Runs {@code steps} more steps, reporting each result. */
    public StepResult train(long steps, Consumer<StepResult> listener) {
        StepResult last = null;
        for (long i = 0; i < steps; i++) {
            last = learner.step(batch(learner.steps() + learner.skippedSteps()));
            listener.accept(last);
        }
        return last;
    }

    /** The view pair of batch {@code index}: occurrences [index x B, (index + 1) x B). */
    public ViewBatch batch(long index) {
        Image first = images.get(0);
        int per = first.channels() * view1.outputSize() * view1.outputSize();
        float[] v1 = new float[batchSize * per];
        float[] v2 = new float[batchSize * per];
        for (int i = 0; i < batchSize; i++) {
            long seq = index * batchSize + i;
            long epoch = seq / images.size();
            int record = order(epoch)[(int) (seq % images.size())];
            Image image = images.get(record);
            System.arraycopy(Views.make(view1, image, runSeed, record, epoch, 0), 0, v1, i * per, per);
            System.arraycopy(Views.make(view2, image, runSeed, record, epoch, 1), 0, v2, i * per, per);
        }
        return new ViewBatch(batchSize, first.channels(), view1.outputSize(), view1.outputSize(), v1, v2);
    }

    private int[] order(long epoch) {
        if (epoch != cachedEpoch) {
            cachedOrder = ReplayOrder.shuffled(images.size(), runSeed, epoch);
            cachedEpoch = epoch;
        }
        return cachedOrder;
    }
}
