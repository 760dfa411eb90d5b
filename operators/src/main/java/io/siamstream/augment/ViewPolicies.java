package io.siamstream.augment;

/**
 * The papers' view policies. SimSiam uses MoCo v2's augmentation (crop 0.2-1, colour jitter 0.4/0.4/0.4/0.1 with
 * p 0.8, grayscale p 0.2, blur p 0.5, flip) for both views; its CIFAR-size variant drops the blur. BYOL's two views
 * differ: blur p 1.0 / 0.1 and solarisation p 0 / 0.2, crop 0.08-1, jitter 0.4/0.4/0.2/0.1.
 */
public final class ViewPolicies {

    /** ImageNet statistics (RGB). */
    public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    public static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};
    /** Fashion-MNIST statistics (gray) of the train split. */
    public static final float[] FASHION_MNIST_MEAN = {0.2860f};
    public static final float[] FASHION_MNIST_STD = {0.3530f};

    private static final double RATIO_MIN = 3.0 / 4.0;
    private static final double RATIO_MAX = 4.0 / 3.0;

    private ViewPolicies() {}

    public static ViewPolicy simSiam(int size, float[] mean, float[] std) {
        return new ViewPolicy("simsiam", size, 0.2, 1.0, RATIO_MIN, RATIO_MAX,
                0.8, 0.4, 0.4, 0.4, 0.1, 0.2, 0.5, 0.1, 2.0, 0.0, 0.5, mean, std);
    }

    /** SimSiam's CIFAR-size recipe: no blur (the images are too small for it). */
    public static ViewPolicy simSiamSmall(int size, float[] mean, float[] std) {
        return new ViewPolicy("simsiam-small", size, 0.2, 1.0, RATIO_MIN, RATIO_MAX,
                0.8, 0.4, 0.4, 0.4, 0.1, 0.2, 0.0, 0.1, 2.0, 0.0, 0.5, mean, std);
    }

    public static ViewPolicy byolView1(int size, float[] mean, float[] std) {
        return new ViewPolicy("byol-view1", size, 0.08, 1.0, RATIO_MIN, RATIO_MAX,
                0.8, 0.4, 0.4, 0.2, 0.1, 0.2, 1.0, 0.1, 2.0, 0.0, 0.5, mean, std);
    }

    public static ViewPolicy byolView2(int size, float[] mean, float[] std) {
        return new ViewPolicy("byol-view2", size, 0.08, 1.0, RATIO_MIN, RATIO_MAX,
                0.8, 0.4, 0.4, 0.2, 0.1, 0.2, 0.1, 0.1, 2.0, 0.2, 0.5, mean, std);
    }

    /** The policy for the bundled Fashion-MNIST data: SimSiam's small-image recipe at 28 x 28. */
    public static ViewPolicy fashionMnist() {
        return simSiamSmall(28, FASHION_MNIST_MEAN, FASHION_MNIST_STD);
    }
}
