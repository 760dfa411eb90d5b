package io.siamstream.model;

/** The projection and prediction heads of the methods, in one place. */
public final class Heads {

    private Heads() {}

    /**
     * SimSiam's projector: [Linear (no bias), BN, ReLU] x 2, Linear (no bias: the BN after it would cancel it),
     * BN without affine parameters.
     */
    public static NamedSequential simSiamProjector(HeadConfig config) {
        return new NamedSequential()
                .add("fc1", Layers.linear(config.projectorHidden(), false))
                .add("bn1", Layers.batchNorm(true))
                .add("relu1", Layers.relu())
                .add("fc2", Layers.linear(config.projectorHidden(), false))
                .add("bn2", Layers.batchNorm(true))
                .add("relu2", Layers.relu())
                .add("fc3", Layers.linear(config.projectorOut(), false))
                .add("bn3", Layers.batchNorm(false));
    }

    /** SimSiam's bottleneck predictor: Linear (no bias), BN, ReLU, Linear (with bias) back to the projector's width. */
    public static NamedSequential simSiamPredictor(HeadConfig config) {
        return new NamedSequential()
                .add("fc1", Layers.linear(config.predictorHidden(), false))
                .add("bn1", Layers.batchNorm(true))
                .add("relu1", Layers.relu())
                .add("fc2", Layers.linear(config.projectorOut(), true));
    }
}
