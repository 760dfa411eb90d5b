package io.siamstream.model;

/**
 * What backbone to build.
 *
 * @param kind the architecture
 * @param inChannels 1 (grayscale) or 3 (RGB)
 * @param widthMultiplier scales every channel count (1.0 = the paper's widths; 0.5 = "half width")
 */
public record EncoderConfig(EncoderKind kind, int inChannels, double widthMultiplier) implements java.io.Serializable {

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
    }

    public static EncoderConfig of(EncoderKind kind, int inChannels) {
        return new EncoderConfig(kind, inChannels, 1.0);
    }

    int scaled(int channels) {
        return Math.max(1, (int) Math.round(channels * widthMultiplier));
    }
}
