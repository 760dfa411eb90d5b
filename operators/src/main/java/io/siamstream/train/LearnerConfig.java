package io.siamstream.train;

import io.siamstream.method.MethodConfig;
import io.siamstream.method.SimSiamConfig;
import io.siamstream.model.EncoderConfig;
import io.siamstream.model.EncoderKind;
import io.siamstream.model.HeadConfig;
import java.util.Locale;

/**
 * Everything that defines a learner: method, model, input shape, batch, optimizer, seed and device. Invalid values
 * fail here, at start, with a message naming the option.
 *
 * @param imageChannels channels of the input views (must match the encoder)
 * @param imageSize height and width of the (square) views
 */
public record LearnerConfig(
        MethodConfig method,
        EncoderConfig encoder,
        HeadConfig heads,
        int imageChannels,
        int imageSize,
        int batchSize,
        OptimizerConfig optimizer,
        long seed,
        String device) implements java.io.Serializable {

    public LearnerConfig {
        if (method == null || encoder == null || heads == null || optimizer == null) {
            throw new IllegalArgumentException("method, encoder, heads and optimizer must all be set");
        }
        if (imageChannels != encoder.inChannels()) {
            throw new IllegalArgumentException("encoder.in-channels: " + encoder.inChannels()
                    + " does not match the images' " + imageChannels + " channel(s)");
        }
        if (imageSize < 8 || imageSize > 1024) {
            throw new IllegalArgumentException("data.image-size: " + imageSize + " is out of range [8, 1024]");
        }
        if (batchSize < 2) {
            throw new IllegalArgumentException("train.batch-size: " + batchSize
                    + " must be at least 2 (batch normalisation needs two samples)");
        }
        DeviceSelection.validate(device);
    }

    /** The small test setting: SimSiam, 4-layer ConvNet with 256-wide heads, on 1 x 28 x 28 images, on the CPU. */
    public static LearnerConfig smallConvNet(int batchSize, long totalSteps, long seed) {
        return new LearnerConfig(
                SimSiamConfig.paper(),
                EncoderConfig.of(EncoderKind.CONVNET, 1),
                HeadConfig.small(),
                1, 28, batchSize,
                OptimizerConfig.simSiamCifar(totalSteps),
                seed, "cpu");
    }

    /** {@link #smallConvNet(int, long, long)} with another method and that method's small heads. */
    public static LearnerConfig smallConvNet(MethodConfig method, int batchSize, long totalSteps, long seed) {
        return new LearnerConfig(
                method,
                EncoderConfig.of(EncoderKind.CONVNET, 1),
                method.smallHeads(),
                1, 28, batchSize,
                OptimizerConfig.simSiamCifar(totalSteps),
                seed, "cpu");
    }

    public LearnerConfig withMethod(MethodConfig m) {
        return new LearnerConfig(m, encoder, heads, imageChannels, imageSize, batchSize, optimizer, seed, device);
    }

    public LearnerConfig withOptimizer(OptimizerConfig o) {
        return new LearnerConfig(method, encoder, heads, imageChannels, imageSize, batchSize, o, seed, device);
    }

    public LearnerConfig withDevice(String d) {
        return new LearnerConfig(method, encoder, heads, imageChannels, imageSize, batchSize, optimizer, seed, d);
    }

    public LearnerConfig withModel(EncoderConfig e, HeadConfig h, int channels, int size) {
        return new LearnerConfig(method, e, h, channels, size, batchSize, optimizer, seed, device);
    }

    /**
     * What a saved state must agree on to be restored into this configuration: method and the switches that shape its
     * state, model and input shape. Batch size, optimizer settings and device may change between runs.
     */
    public String modelFingerprint() {
        // the grid only where it is not the global pool, so that earlier runs' fingerprints still match
        return String.format(Locale.ROOT, "%s %s(in=%d,width=%s%s) heads(%d,%d,%d) input(%dx%dx%d)",
                method.fingerprint(), encoder.kind(), encoder.inChannels(), encoder.widthMultiplier(),
                encoder.poolGrid() == 1 ? "" : ",pool-grid=" + encoder.poolGrid(),
                heads.projectorHidden(), heads.projectorOut(), heads.predictorHidden(),
                imageChannels, imageSize, imageSize);
    }
}
