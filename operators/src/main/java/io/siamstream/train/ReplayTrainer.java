package io.siamstream.train;

import io.siamstream.augment.Image;
import io.siamstream.augment.ViewPolicy;
import io.siamstream.augment.Views;
import io.siamstream.seed.Seeds;
import java.util.List;
import java.util.function.Consumer;

/**
 * Trains a learner on an in-memory dataset replayed epoch after epoch, without Flink: the reference loop that the
 * streaming job reproduces, and what the demo, the ablation tests and the benchmarks run.
 *
 * <p>Everything follows from the learner's step count: step s trains batch (s mod batchesPerEpoch) of epoch
 * (s div batchesPerEpoch); each epoch visits the records in an order shuffled from (run seed, epoch); view v of
 * record r in epoch e is drawn from (run seed, r, e, v). A restored learner therefore continues on exactly the
 * batches an uninterrupted one would have seen. The last partial batch of an epoch is dropped.
 */
public final class ReplayTrainer {

    private final Learner learner;
    private final List<Image> images;
    private final ViewPolicy view1;
    private final ViewPolicy view2;
    private final long runSeed;
    private final int batchSize;
    private final int batchesPerEpoch;
    private long cachedEpoch = -1;
    private int[] cachedOrder;

    public ReplayTrainer(Learner learner, List<Image> images, ViewPolicy view1, ViewPolicy view2, long runSeed) {
        this.learner = learner;
        this.images = images;
        this.view1 = view1;
        this.view2 = view2;
        this.runSeed = runSeed;
        this.batchSize = learner.config().batchSize();
        this.batchesPerEpoch = images.size() / batchSize;
        if (batchesPerEpoch == 0) {
            throw new IllegalArgumentException(images.size() + " images do not fill one batch of " + batchSize);
        }
    }

    public int batchesPerEpoch() {
        return batchesPerEpoch;
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

    /** The view pair of global batch index {@code index} (epoch = index div batchesPerEpoch). */
    public ViewBatch batch(long index) {
        long epoch = index / batchesPerEpoch;
        int within = (int) (index % batchesPerEpoch);
        int[] order = order(epoch);
        Image first = images.get(0);
        int per = first.channels() * view1.outputSize() * view1.outputSize();
        float[] v1 = new float[batchSize * per];
        float[] v2 = new float[batchSize * per];
        for (int i = 0; i < batchSize; i++) {
            int record = order[within * batchSize + i];
            Image image = images.get(record);
            System.arraycopy(Views.make(view1, image, runSeed, record, epoch, 0), 0, v1, i * per, per);
            System.arraycopy(Views.make(view2, image, runSeed, record, epoch, 1), 0, v2, i * per, per);
        }
        return new ViewBatch(batchSize, first.channels(), view1.outputSize(), view1.outputSize(), v1, v2);
    }

    private int[] order(long epoch) {
        if (epoch != cachedEpoch) {
            cachedOrder = shuffled(images.size(), Seeds.derive(runSeed, epoch, 0x5EED));
            cachedEpoch = epoch;
        }
        return cachedOrder;
    }

    /** A permutation of 0..n-1 (Fisher-Yates) from the seed. */
    public static int[] shuffled(int n, long seed) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
