package io.siamstream.model;

/**
 * Widths of the projection and prediction heads.
 *
 * @param projectorHidden width of the projector's hidden layers (SimSiam: 2048)
 * @param projectorOut width of z, the projector's output (SimSiam: 2048)
 * @param predictorHidden width of the predictor's bottleneck (SimSiam: 512)
 */
public record HeadConfig(int projectorHidden, int projectorOut, int predictorHidden) implements java.io.Serializable {

    public HeadConfig {
        check("heads.projector-hidden", projectorHidden);
        check("heads.projector-out", projectorOut);
        check("heads.predictor-hidden", predictorHidden);
    }

    /** The SimSiam paper's heads: 2048-2048-2048 projector, 512 bottleneck predictor. */
    public static HeadConfig simSiamPaper() {
        return new HeadConfig(2048, 2048, 512);
    }

    /** Narrow heads for the small test ConvNet: 256 wide, 64 bottleneck. */
    public static HeadConfig small() {
        return new HeadConfig(256, 256, 64);
    }

    private static void check(String option, int value) {
        if (value < 1 || value > 65536) {
            throw new IllegalArgumentException(option + ": " + value + " is out of range [1, 65536]");
        }
    }
}
