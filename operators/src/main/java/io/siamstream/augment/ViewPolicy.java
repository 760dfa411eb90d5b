package io.siamstream.augment;

import java.util.SplittableRandom;

/**
 * How one view of an image is made: random resized crop to {@code outputSize}, colour jitter with probability,
 * random grayscale, Gaussian blur with probability (kernel about 10% of the side, sigma uniform in a range),
 * solarisation with probability, horizontal flip, then per-channel normalisation.
 *
 * <p>On 1-channel images saturation, hue and grayscale are no-ops by definition (there is no colour to change);
 * their parameters still draw random numbers, so a policy gives the same crops on gray and colour input.
 *
 * @param name used in error messages as {@code augment.<name>.<field>}
 */
public record ViewPolicy(
        String name,
        int outputSize,
        double cropScaleMin, double cropScaleMax, double cropRatioMin, double cropRatioMax,
        double jitterProbability, double brightness, double contrast, double saturation, double hue,
        double grayscaleProbability,
        double blurProbability, double blurSigmaMin, double blurSigmaMax,
        double solarizeProbability,
        double flipProbability,
        float[] mean, float[] std) implements java.io.Serializable {

    public ViewPolicy {
        if (outputSize < 4 || outputSize > 4096) {
            throw bad(name, "output-size", outputSize, "[4, 4096]");
        }
        if (!(cropScaleMin > 0 && cropScaleMin <= cropScaleMax && cropScaleMax <= 1)) {
            throw bad(name, "crop-scale", cropScaleMin + ".." + cropScaleMax, "0 < min <= max <= 1");
        }
        if (!(cropRatioMin > 0 && cropRatioMin <= cropRatioMax && Double.isFinite(cropRatioMax))) {
            throw bad(name, "crop-ratio", cropRatioMin + ".." + cropRatioMax, "0 < min <= max");
        }
        probability(name, "jitter-probability", jitterProbability);
        probability(name, "grayscale-probability", grayscaleProbability);
        probability(name, "blur-probability", blurProbability);
        probability(name, "solarize-probability", solarizeProbability);
        probability(name, "flip-probability", flipProbability);
        nonNegative(name, "brightness", brightness);
        nonNegative(name, "contrast", contrast);
        nonNegative(name, "saturation", saturation);
        if (!(hue >= 0 && hue <= 0.5)) {
            throw bad(name, "hue", hue, "[0, 0.5]");
        }
        if (!(blurSigmaMin > 0 && blurSigmaMin <= blurSigmaMax && Double.isFinite(blurSigmaMax))) {
            throw bad(name, "blur-sigma", blurSigmaMin + ".." + blurSigmaMax, "0 < min <= max");
        }
        if (mean == null || std == null || mean.length != std.length || (mean.length != 1 && mean.length != 3)) {
            throw bad(name, "mean/std", "lengths " + (mean == null ? 0 : mean.length) + "/" + (std == null ? 0 : std.length),
                    "one value per channel (1 or 3)");
        }
        for (float m : mean) {
            if (!Float.isFinite(m)) {
                throw bad(name, "mean", m, "finite values");
            }
        }
        for (float s : std) {
            if (!(s > 0) || !Float.isFinite(1f / s) || !Float.isFinite(s)) {
                throw bad(name, "std", s, "finite values > 0 whose inverse is finite");
            }
        }
    }

    /**
     * This policy with the random resized crop's smallest area share set to {@code min} (the largest stays): a milder
     * crop for small images, where a 0.2 crop of a 28 x 28 garment can cut away what tells two classes apart.
     */
    public ViewPolicy withCropScaleMin(double min) {
        return new ViewPolicy(name, outputSize, min, cropScaleMax, cropRatioMin, cropRatioMax, jitterProbability,
                brightness, contrast, saturation, hue, grayscaleProbability, blurProbability, blurSigmaMin,
                blurSigmaMax, solarizeProbability, flipProbability, mean, std);
    }

    /** The blur kernel for this output size: about 10% of the side, odd, at least 3. */
    public int blurKernelSize() {
        int k = (int) Math.round(0.1 * outputSize);
        return Math.max(3, k % 2 == 0 ? k + 1 : k);
    }

    /** Makes the view of {@code img} drawing every random number from {@code random}; returns normalised C x H x W floats. */
    public float[] apply(Image img, SplittableRandom random) {
        if (img.channels() != mean.length) {
            throw new IllegalArgumentException("augment." + name + ": policy is for " + mean.length
                    + "-channel images, got " + img.channels());
        }
        CropBox box = RandomResizedCrop.sampleBox(random, img.height(), img.width(),
                cropScaleMin, cropScaleMax, cropRatioMin, cropRatioMax);
        Image out = ImageOps.resizedCrop(img, box, outputSize, outputSize);
        if (random.nextDouble() < jitterProbability) {
            out = ColorJitterParams.sample(random, brightness, contrast, saturation, hue).apply(out);
        }
        if (random.nextDouble() < grayscaleProbability) {
            out = ImageOps.grayscale(out);
        }
        if (random.nextDouble() < blurProbability) {
            float sigma = (float) RandomResizedCrop.uniform(random, blurSigmaMin, blurSigmaMax);
            out = ImageOps.gaussianBlur(out, blurKernelSize(), sigma);
        }
        if (random.nextDouble() < solarizeProbability) {
            out = ImageOps.solarize(out, 0.5f);
        }
        if (random.nextDouble() < flipProbability) {
            out = ImageOps.horizontalFlip(out);
        }
        return ImageOps.normalize(out, mean, std);
    }

    private static void probability(String name, String field, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw bad(name, field, p, "[0, 1]");
        }
    }

    private static void nonNegative(String name, String field, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw bad(name, field, v, ">= 0");
        }
    }

    private static IllegalArgumentException bad(String name, String field, Object value, String allowed) {
        return new IllegalArgumentException("augment." + name + "." + field + ": " + value
                + " is not allowed; allowed: " + allowed);
    }
}
