package io.siamstream.train;

import io.siamstream.record.ViewPair;
import java.util.List;

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

    /** The pairs' views, concatenated in list order (all pairs must have one shape). */
    public static ViewBatch of(List<ViewPair> pairs) {
        ViewPair first = pairs.get(0);
        int per = first.view1.length;
        float[] v1 = new float[pairs.size() * per];
        float[] v2 = new float[pairs.size() * per];
        for (int i = 0; i < pairs.size(); i++) {
            System.arraycopy(pairs.get(i).view1, 0, v1, i * per, per);
            System.arraycopy(pairs.get(i).view2, 0, v2, i * per, per);
        }
        return new ViewBatch(pairs.size(), first.channels, first.height, first.width, v1, v2);
    }
}
