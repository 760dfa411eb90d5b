package io.siamstream.train;

/**
 * The learning rate by step: lr = baseLr x batch / 256 (the linear scaling rule of the SimSiam paper), a linear
 * warm-up over the first {@code warmupSteps}, then a half-cosine decay to 0 at {@code totalSteps}. Past
 * {@code totalSteps} (an endless stream) the rate stays at its final value, or restarts the cosine in cycles of
 * {@code totalSteps} when {@code cyclic} is set.
 */
public record LrSchedule(double baseLr, int batchSize, long warmupSteps, long totalSteps, boolean cyclic) {

    public LrSchedule {
        if (!(baseLr > 0) || Double.isInfinite(baseLr)) {
            throw new IllegalArgumentException("optimizer.base-lr: " + baseLr + " must be a positive number");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("train.batch-size: " + batchSize + " must be at least 1");
        }
        if (totalSteps < 1) {
            throw new IllegalArgumentException("optimizer.total-steps: " + totalSteps + " must be at least 1");
        }
        if (warmupSteps < 0 || warmupSteps >= totalSteps) {
            throw new IllegalArgumentException("optimizer.warmup-steps: " + warmupSteps
                    + " must be in [0, optimizer.total-steps=" + totalSteps + ")");
        }
    }

    /** The initial rate after scaling: baseLr x batch / 256. */
    public double peakLr() {
        return baseLr * batchSize / 256.0;
    }

    /**
     * How far update {@code step} is through the schedule, in [0, 1] (cycling like the rate): what BYOL's momentum
     * schedule follows.
     */
    public double progress(long step) {
        long t = cyclic ? step % totalSteps : Math.min(step, totalSteps);
        return (double) t / totalSteps;
    }

    /** The rate for the update that follows {@code step} completed steps (step 0 is the first update). */
    public double lrAt(long step) {
        long t = cyclic ? step % totalSteps : Math.min(step, totalSteps);
        if (t < warmupSteps) {
            return peakLr() * (t + 1) / (warmupSteps + 1);
        }
        double progress = (double) (t - warmupSteps) / (totalSteps - warmupSteps);
        return peakLr() * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
