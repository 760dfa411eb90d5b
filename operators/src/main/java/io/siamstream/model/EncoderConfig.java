package io.siamstream.model;

/**
 * What backbone to build.
 *
 * @param kind the architecture
 * @param inChannels 1 (grayscale) or 3 (RGB)
 * @param widthMultiplier scales every channel count (1.0 = the paper's widths; 0.5 = "half width")
 * @param poolGrid how the last feature map becomes the feature vector: 1 averages it whole (global average pooling,
 *     the architectures' own); g > 1 averages each cell of a g x g grid (PyTorch's AdaptiveAvgPool2d(g), then
 *     flatten), so the features keep the coarse layout of the image, g * g times as many of them. Aligned images such
 *     as Fashion-MNIST's carry their class in that layout, which a global average discards.
 */
public record EncoderConfig(EncoderKind kind, int inChannels, double widthMultiplier, int poolGrid)
        implements java.io.Serializable {

    /** The largest pool grid: the ConvNet's and the CIFAR ResNet's last map is 4 x 4 for 28- to 32-pixel input. */
    public static final int MAX_POOL_GRID = 4;

    public EncoderConfig {
        if (kind == null) {
            throw new IllegalArgumentException("encoder.kind must be set");
        }
        if (inChannels != 1 && inChannels != 3) {
            throw new IllegalArgumentException("encoder.in-channels: " + inChannels + " is not allowed; allowed values: 1, 3");
        }
        if (!(widthMultiplier > 0 && widthMultiplier <= 4)) {
            throw new IllegalArgumentException("encoder.width: " + widthMultiplier + " is out of range (0, 4]");
        }
        if (poolGrid < 1 || poolGrid > MAX_POOL_GRID) {
            throw new IllegalArgumentException("encoder.pool-grid: " + poolGrid + " is out of range; allowed: 1 to "
                    + MAX_POOL_GRID);
        }
    }

    /** The architecture's own global average pool. */
    public EncoderConfig(EncoderKind kind, int inChannels, double widthMultiplier) {
        this(kind, inChannels, widthMultiplier, 1);
    }

    public static EncoderConfig of(EncoderKind kind, int inChannels) {
        return new EncoderConfig(kind, inChannels, 1.0);
    }

    int scaled(int channels) {
        return Math.max(1, (int) Math.round(channels * widthMultiplier));
    }
}
