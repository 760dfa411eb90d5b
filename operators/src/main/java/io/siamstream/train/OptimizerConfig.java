package io.siamstream.train;

/**
 * SGD settings. Defaults are the SimSiam paper's CIFAR recipe: base lr 0.03 (scaled by batch / 256), momentum 0.9,
 * weight decay 5e-4, cosine decay.
 */
public record OptimizerConfig(
        double baseLr, double momentum, double weightDecay, long warmupSteps, long totalSteps, boolean cyclic)
        implements java.io.Serializable {

    public OptimizerConfig {
        // LrSchedule and SgdMomentum check the ranges; building them here fails early with the option's name.
        new LrSchedule(baseLr, 1, warmupSteps, totalSteps, cyclic);
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

    public OptimizerConfig withBaseLr(double lr) {
        return new OptimizerConfig(lr, momentum, weightDecay, warmupSteps, totalSteps, cyclic);
    }

    public OptimizerConfig withWarmup(long steps) {
        return new OptimizerConfig(baseLr, momentum, weightDecay, steps, totalSteps, cyclic);
    }

    public OptimizerConfig withWeightDecay(double wd) {
        return new OptimizerConfig(baseLr, momentum, wd, warmupSteps, totalSteps, cyclic);
    }

    public LrSchedule schedule(int batchSize) {
        return new LrSchedule(baseLr, batchSize, warmupSteps, totalSteps, cyclic);
    }
}
