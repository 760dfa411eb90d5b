package io.siamstream.train;

/**
 * Optimizer settings: SGD with momentum, or LARS on top of it when {@code larsTrustCoefficient} is positive (see
 * {@link SgdMomentum}). Defaults are the SimSiam paper's CIFAR recipe: base lr 0.03 (scaled by batch / 256), momentum
 * 0.9, weight decay 5e-4, cosine decay.
 *
 * @param schedule the shape of the rate after warm-up (see {@link LrSchedule})
 * @param totalSteps cosine: its length, warm-up included; cosine-restarts: the first period; constant: unused
 * @param restartMultiplier cosine-restarts: each period is this many times the one before (>= 1)
 * @param larsTrustCoefficient LARS's eta (the papers: 0.001); 0 for plain SGD
 */
public record OptimizerConfig(
        double baseLr, double momentum, double weightDecay, long warmupSteps, ScheduleKind schedule, long totalSteps,
        double restartMultiplier, double larsTrustCoefficient)
        implements java.io.Serializable {

    /** The values of the {@code optimizer} option. */
    public static final String ALLOWED_KINDS = "sgd, lars";
    /** LARS's trust coefficient in BYOL's and SimCLR's recipes. */
    public static final double LARS_ETA = 0.001;

    /** Plain SGD with momentum. */
    public OptimizerConfig(double baseLr, double momentum, double weightDecay, long warmupSteps, long totalSteps,
            boolean cyclic) {
        this(baseLr, momentum, weightDecay, warmupSteps,
                cyclic ? ScheduleKind.COSINE_RESTARTS : ScheduleKind.COSINE, totalSteps, 1, 0);
    }

    public OptimizerConfig {
        if (!(larsTrustCoefficient >= 0) || Double.isInfinite(larsTrustCoefficient)) {
            throw new IllegalArgumentException("optimizer.lars-trust-coefficient: " + larsTrustCoefficient
                    + " must be >= 0 (0 = plain SGD)");
        }
        // LrSchedule and SgdMomentum check the ranges; building them here fails early with the option's name.
        new LrSchedule(baseLr, 1, warmupSteps, schedule, totalSteps, restartMultiplier);
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("optimizer.momentum: " + momentum + " must be in [0, 1)");
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("optimizer.weight-decay: " + weightDecay + " must be >= 0");
        }
    }

    public static OptimizerConfig simSiamCifar(long totalSteps) {
        return new OptimizerConfig(0.03, 0.9, 5e-4, 0, totalSteps, false);
    }

    /**
     * LARS as BYOL and SimCLR train (momentum 0.9, eta 0.001, biases and BN excluded from adaptation and decay),
     * with the given base lr (scaled by batch / 256) and weight decay.
     */
    public static OptimizerConfig lars(double baseLr, double weightDecay, long warmupSteps, long totalSteps) {
        return new OptimizerConfig(baseLr, 0.9, weightDecay, warmupSteps, ScheduleKind.COSINE, totalSteps, 1, LARS_ETA);
    }

    /** "sgd" or "lars". */
    public String kind() {
        return larsTrustCoefficient > 0 ? "lars" : "sgd";
    }

    public OptimizerConfig withBaseLr(double lr) {
        return new OptimizerConfig(lr, momentum, weightDecay, warmupSteps, schedule, totalSteps, restartMultiplier,
                larsTrustCoefficient);
    }

    public OptimizerConfig withWarmup(long steps) {
        return new OptimizerConfig(baseLr, momentum, weightDecay, steps, schedule, totalSteps, restartMultiplier,
                larsTrustCoefficient);
    }

    public OptimizerConfig withWeightDecay(double wd) {
        return new OptimizerConfig(baseLr, momentum, wd, warmupSteps, schedule, totalSteps, restartMultiplier,
                larsTrustCoefficient);
    }

    /** The same settings with LARS adaptation (eta > 0) or without it (eta = 0). */
    public OptimizerConfig withLars(double eta) {
        return new OptimizerConfig(baseLr, momentum, weightDecay, warmupSteps, schedule, totalSteps, restartMultiplier,
                eta);
    }

    /** The same optimizer with another schedule: its kind, length (or first period) and restart multiplier. */
    public OptimizerConfig withSchedule(ScheduleKind kind, long steps, double multiplier) {
        return new OptimizerConfig(baseLr, momentum, weightDecay, warmupSteps, kind, steps, multiplier,
                larsTrustCoefficient);
    }

    public LrSchedule schedule(int batchSize) {
        return new LrSchedule(baseLr, batchSize, warmupSteps, schedule, totalSteps, restartMultiplier);
    }
}
