package io.siamstream.train;

/**
 * The learning rate by step: lr = baseLr x batch / 256 (the linear scaling rule of the SimSiam paper), a linear
 * warm-up over the first {@code warmupSteps}, then one of three shapes ({@link ScheduleKind}):
 * <ul>
 *   <li>{@code COSINE}: a half cosine that reaches 0 at {@code totalSteps} (warm-up included) and stays there: for
 *       bounded input, whose length is known;</li>
 *   <li>{@code CONSTANT}: the peak rate for ever;</li>
 *   <li>{@code COSINE_RESTARTS}: after warm-up, half cosines over periods of {@code totalSteps},
 *       {@code totalSteps} x m, x m^2, ... (m = {@code restartMultiplier} >= 1), each restarting at the peak. Within a
 *       period of length T the rate at position s &lt; T is peak (1 + cos(pi s / T)) / 2 &gt; 0.</li>
 * </ul>
 * The schedule is a pure function of the step, so a restored learner (whose step the codec keeps) is at the same
 * position, also in the middle of a cycle. The momentum schedules (BYOL's tau) follow {@link #progress}.
 */
public record LrSchedule(double baseLr, int batchSize, long warmupSteps, ScheduleKind kind, long totalSteps,
                         double restartMultiplier) {

    public LrSchedule {
        if (!(baseLr > 0) || Double.isInfinite(baseLr)) {
            throw new IllegalArgumentException("optimizer.base-lr: " + baseLr + " must be a positive number");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("train.batch-size: " + batchSize + " must be at least 1");
        }
        if (kind == null) {
            throw new IllegalArgumentException("optimizer.schedule: not set; allowed values: " + ScheduleKind.ALLOWED);
        }
        if (totalSteps < 1) {
            throw new IllegalArgumentException("optimizer.schedule-steps: " + totalSteps + " must be at least 1");
        }
        if (warmupSteps < 0 || (kind == ScheduleKind.COSINE && warmupSteps >= totalSteps)) {
            throw new IllegalArgumentException("optimizer.warmup-steps: " + warmupSteps + " must be in [0, "
                    + (kind == ScheduleKind.COSINE ? "optimizer.schedule-steps=" + totalSteps + ")" : "inf)"));
        }
        if (!(restartMultiplier >= 1) || Double.isInfinite(restartMultiplier)) {
            throw new IllegalArgumentException("optimizer.restart-multiplier: " + restartMultiplier
                    + " must be a finite number >= 1");
        }
    }

    /** A half cosine over {@code totalSteps}, or (cyclic) restarts every {@code totalSteps} after the warm-up. */
    public LrSchedule(double baseLr, int batchSize, long warmupSteps, long totalSteps, boolean cyclic) {
        this(baseLr, batchSize, warmupSteps, cyclic ? ScheduleKind.COSINE_RESTARTS : ScheduleKind.COSINE, totalSteps, 1);
    }

    /** The initial rate after scaling: baseLr x batch / 256. */
    public double peakLr() {
        return baseLr * batchSize / 256.0;
    }

    /**
     * How far update {@code step} is through the schedule, in [0, 1]: what BYOL's momentum schedule follows. Cosine:
     * step / totalSteps (then 1); constant: 0 (tau stays at its base); cosine with restarts: the position in the
     * current period (0 during warm-up), so tau restarts with the rate.
     */
    public double progress(long step) {
        return switch (kind) {
            case COSINE -> (double) Math.min(step, totalSteps) / totalSteps;
            case CONSTANT -> 0;
            case COSINE_RESTARTS -> step < warmupSteps ? 0 : cyclePosition(step - warmupSteps);
        };
    }

    /** The rate for the update that follows {@code step} completed steps (step 0 is the first update). */
    public double lrAt(long step) {
        if (step < warmupSteps) {
            return peakLr() * (step + 1) / (warmupSteps + 1);
        }
        return switch (kind) {
            case COSINE -> peakLr() * 0.5 * (1 + Math.cos(Math.PI
                    * (double) (Math.min(step, totalSteps) - warmupSteps) / (totalSteps - warmupSteps)));
            case CONSTANT -> peakLr();
            case COSINE_RESTARTS -> peakLr() * 0.5 * (1 + Math.cos(Math.PI * cyclePosition(step - warmupSteps)));
        };
    }

    /** Position s / T in [0, 1) of step {@code s} (counted from the end of warm-up) in its restart period. */
    private double cyclePosition(long s) {
        if (restartMultiplier == 1) {
            return (double) (s % totalSteps) / totalSteps;
        }
        // periods grow geometrically, so this loop runs O(log s) times
        double period = totalSteps;
        double start = 0;
        while (s >= start + Math.floor(period)) {
            start += Math.floor(period);
            period *= restartMultiplier;
        }
        return (s - start) / Math.floor(period);
    }
}
