package io.siamstream.connectors.idx;

import io.siamstream.augment.Image;
import java.util.ArrayList;
import java.util.List;

/**
 * A set of same-sized 8-bit grayscale images with optional labels, as stored in IDX files.
 *
 * @param pixels count x rows x cols bytes, row-major
 * @param labels one byte per image, or null when the set has no labels
 */
public record LabeledImages(int count, int rows, int cols, byte[] pixels, byte[] labels) {

    public LabeledImages {
        if ((long) count * rows * cols != pixels.length) {
            throw new IllegalArgumentException("pixel buffer does not hold " + count + " images of " + rows + "x" + cols);
        }
        if (labels != null && labels.length != count) {
            throw new IllegalArgumentException(labels.length + " labels for " + count + " images");
        }
    }

    public int label(int index) {
        return labels[index] & 0xff;
    }

    /** Image {@code index} as floats in [0, 1], decoded exactly as the streaming job decodes records. */
    public float[] imageAsFloats(int index) {
        int size = rows * cols;
        return Image.fromUnsignedBytes(java.util.Arrays.copyOfRange(pixels, index * size, (index + 1) * size),
                1, rows, cols).data();
    }

    /** Every image as a 1-channel {@link Image} in [0, 1]. */
    public List<Image> asImages() {
        List<Image> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(new Image(1, rows, cols, imageAsFloats(i)));
        }
        return out;
    }

    /** All images normalised with (x - mean) / std, count x 1 x rows x cols: the input of evaluation. */
    public float[] normalized(float mean, float std) {
        float[] out = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            out[i] = ((pixels[i] & 0xff) * (1f / 255f) - mean) / std;
        }
        return out;
    }

    /** The labels as ints. */
    public int[] labelArray() {
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = label(i);
        }
        return out;
    }
}
