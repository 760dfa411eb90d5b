package io.siamstream.train;

/**
 * Two views of the same {@code size} images, each in N x C x H x W order as floats (already normalised).
 */
public record ViewBatch(int size, int channels, int height, int width, float[] view1, float[] view2) {

    public ViewBatch {
        long expected = (long) size * channels * height * width;
        if (view1.length != expected || view2.length != expected) {
            throw new IllegalArgumentException("views hold " + view1.length + " and " + view2.length
                    + " values; " + size + "x" + channels + "x" + height + "x" + width + " needs " + expected);
        }
    }
}
