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

    /**
     * BYOL's projector and predictor (the same shape): Linear (no bias: the BN after it would cancel it), BN, ReLU,
     * Linear (with bias). The paper: 4096 hidden, 256 out.
     */
    public static NamedSequential byolMlp(int hidden, int out) {
        return new NamedSequential()
                .add("fc1", Layers.linear(hidden, false))
                .add("bn1", Layers.batchNorm(true))
                .add("relu1", Layers.relu())
                .add("fc2", Layers.linear(out, true));
    }

    /**
     * The projection head of SimCLR and MoCo v2, as the papers write it: z = W2 relu(W1 h), both Linear layers with
     * bias. SimCLR: 2048 hidden (the encoder's width), 128 out; MoCo v2: the same.
     */
    public static NamedSequential contrastiveMlp(int hidden, int out) {
        return new NamedSequential()
                .add("fc1", Layers.linear(hidden, true))
                .add("relu1", Layers.relu())
                .add("fc2", Layers.linear(out, true));
    }
}
