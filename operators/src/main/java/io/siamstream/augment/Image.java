package io.siamstream.augment;

/**
 * A float image in channel-major (C x H x W) order with values in [0, 1] before normalisation. 1 channel is
 * grayscale, 3 channels are RGB.
 */
public record Image(int channels, int height, int width, float[] data) implements java.io.Serializable {

    public Image {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("images have 1 or 3 channels, not " + channels);
        }
        if (height < 1 || width < 1 || (long) channels * height * width != data.length) {
            throw new IllegalArgumentException(data.length + " values are not a " + channels + "x" + height + "x" + width + " image");
        }
    }

    /** Decodes 8-bit channel-major pixels (grayscale, or RGB planes) to [0, 1]. */
    public static Image fromUnsignedBytes(byte[] pixels, int channels, int height, int width) {
        float[] data = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            data[i] = (pixels[i] & 0xff) * (1f / 255f);
        }
        return new Image(channels, height, width, data);
    }

    /** Decodes 8-bit interleaved RGB (H x W x 3, as image files store it) to channel-major [0, 1]. */
    public static Image fromInterleavedRgb(byte[] pixels, int height, int width) {
        int plane = height * width;
        float[] data = new float[3 * plane];
        for (int i = 0; i < plane; i++) {
            for (int c = 0; c < 3; c++) {
                data[c * plane + i] = (pixels[3 * i + c] & 0xff) * (1f / 255f);
            }
        }
        return new Image(3, height, width, data);
    }

    public int plane() {
        return height * width;
    }

    public float get(int c, int y, int x) {
        return data[(c * height + y) * width + x];
    }

    /** True when every value is finite (no NaN or infinity). */
    public boolean isFinite() {
        for (float v : data) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}
