package io.siamstream.augment;

import java.util.random.RandomGenerator;

/**
 * torchvision's RandomResizedCrop box sampling: up to 10 tries of an area fraction uniform in {@code scale} and a
 * log-uniform aspect ratio in {@code ratio}; if none fits, a centre crop clamped to the ratio range.
 */
public final class RandomResizedCrop {

    private static final int ATTEMPTS = 10;

    private RandomResizedCrop() {}

    public static CropBox sampleBox(RandomGenerator random, int height, int width,
                                    double scaleMin, double scaleMax, double ratioMin, double ratioMax) {
        double area = (double) height * width;
        double logRatioMin = Math.log(ratioMin);
        double logRatioMax = Math.log(ratioMax);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double targetArea = area * uniform(random, scaleMin, scaleMax);
            double aspect = Math.exp(uniform(random, logRatioMin, logRatioMax));
            int w = (int) Math.round(Math.sqrt(targetArea * aspect));
            int h = (int) Math.round(Math.sqrt(targetArea / aspect));
            if (w > 0 && h > 0 && w <= width && h <= height) {
                int top = random.nextInt(height - h + 1);
                int left = random.nextInt(width - w + 1);
                return new CropBox(top, left, h, w);
            }
        }
        double inRatio = (double) width / height;
        int w;
        int h;
        if (inRatio < ratioMin) {
            w = width;
            h = (int) Math.round(w / ratioMin);
        } else if (inRatio > ratioMax) {
            h = height;
            w = (int) Math.round(h * ratioMax);
        } else {
            w = width;
            h = height;
        }
        return new CropBox((height - h) / 2, (width - w) / 2, h, w);
    }

    static double uniform(RandomGenerator random, double min, double max) {
        return min + (max - min) * random.nextDouble();
    }
}
