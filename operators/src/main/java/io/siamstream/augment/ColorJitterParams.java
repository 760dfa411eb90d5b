package io.siamstream.augment;

import java.util.random.RandomGenerator;

/**
 * One draw of ColorJitter: the order of the four adjustments and their factors (brightness, contrast and
 * saturation factors around 1, hue shift around 0), as torchvision's ColorJitter.get_params draws them.
 */
public record ColorJitterParams(int[] order, float brightness, float contrast, float saturation, float hue) {

    public static ColorJitterParams sample(RandomGenerator random, double brightness, double contrast,
                                           double saturation, double hue) {
        int[] order = {0, 1, 2, 3};
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return new ColorJitterParams(order,
                (float) RandomResizedCrop.uniform(random, Math.max(0, 1 - brightness), 1 + brightness),
                (float) RandomResizedCrop.uniform(random, Math.max(0, 1 - contrast), 1 + contrast),
                (float) RandomResizedCrop.uniform(random, Math.max(0, 1 - saturation), 1 + saturation),
                (float) RandomResizedCrop.uniform(random, -hue, hue));
    }

    /** Applies the four adjustments in the drawn order. */
    public Image apply(Image img) {
        Image out = img;
        for (int op : order) {
            out = switch (op) {
                case 0 -> ImageOps.adjustBrightness(out, brightness);
                case 1 -> ImageOps.adjustContrast(out, contrast);
                case 2 -> ImageOps.adjustSaturation(out, saturation);
                default -> ImageOps.adjustHue(out, hue);
            };
        }
        return out;
    }
}
