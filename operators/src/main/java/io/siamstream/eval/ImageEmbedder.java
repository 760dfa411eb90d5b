package io.siamstream.eval;

import ai.djl.Device;
import java.util.List;

/**
 * Embeds 8-bit images (channel-major, the stream's {@code ImageRecord} pixels) with one model version: pixels to
 * [0, 1], normalised with the version's mean and std, the frozen encoder in inference mode, one forward pass per
 * batch. The same images in the same batch give the same vectors bit for bit.
 */
public final class ImageEmbedder implements AutoCloseable {

    private final EncoderVersion version;
    private final FrozenEncoder encoder;

    public ImageEmbedder(EncoderVersion version, Device device) {
        this.version = version;
        this.encoder = new FrozenEncoder(version.encoder(), version.size(), version.weights(), device);
    }

    public long version() {
        return version.version();
    }

    public int featureDim() {
        return encoder.featureDim();
    }

    /**
     * The model input of one image: pixels / 255, then (x - mean) / std per channel, divided as torchvision's
     * Normalize and the evaluation's input do (not multiplied by 1 / std, which can differ in the last bit).
     */
    public static float[] normalized(byte[] pixels, int channels, int size, float[] mean, float[] std) {
        int plane = size * size;
        if (pixels.length != channels * plane) {
            throw new IllegalArgumentException(pixels.length + " bytes are not a " + channels + "x" + size + "x" + size
                    + " image");
        }
        float[] out = new float[pixels.length];
        for (int c = 0; c < channels; c++) {
            float m = mean[c];
            float s = std[c];
            for (int i = c * plane; i < (c + 1) * plane; i++) {
                out[i] = ((pixels[i] & 0xff) * (1f / 255f) - m) / s;
            }
        }
        return out;
    }

    /** One vector per image, in order; every image must be channels x size x size bytes. */
    public float[][] embed(List<byte[]> images) {
        int n = images.size();
        if (n == 0) {
            return new float[0][];
        }
        int per = version.channels() * version.size() * version.size();
        float[] input = new float[n * per];
        for (int i = 0; i < n; i++) {
            byte[] pixels = images.get(i);
            if (pixels.length != per) {
                throw new IllegalArgumentException("image " + i + ": " + pixels.length + " bytes, the model takes " + per);
            }
            System.arraycopy(normalized(pixels, version.channels(), version.size(), version.mean(), version.std()),
                    0, input, i * per, per);
        }
        float[] features = encoder.embed(input, n);
        int dim = encoder.featureDim();
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            out[i] = java.util.Arrays.copyOfRange(features, i * dim, (i + 1) * dim);
        }
        return out;
    }

    @Override
    public void close() {
        encoder.close();
    }
}
