package io.siamstream.augment;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ColorJitterParamsTest {

    private static final int DRAWS = 20_000;

    @Test
    void factorsStayWithinTheirRanges() {
        // the papers' strengths, and strengths > 1 where the lower bound is clamped at 0
        double[][] strengths = {{0.4, 0.4, 0.4, 0.1}, {0.4, 0.4, 0.2, 0.1}, {1.5, 2.0, 1.0, 0.5}, {0, 0, 0, 0}};
        for (double[] s : strengths) {
            SplittableRandom random = new SplittableRandom(1);
            float[] min = {Float.MAX_VALUE, Float.MAX_VALUE, Float.MAX_VALUE, Float.MAX_VALUE};
            float[] max = {-Float.MAX_VALUE, -Float.MAX_VALUE, -Float.MAX_VALUE, -Float.MAX_VALUE};
            for (int i = 0; i < DRAWS; i++) {
                ColorJitterParams p = ColorJitterParams.sample(random, s[0], s[1], s[2], s[3]);
                float[] f = {p.brightness(), p.contrast(), p.saturation(), p.hue()};
                for (int k = 0; k < 4; k++) {
                    min[k] = Math.min(min[k], f[k]);
                    max[k] = Math.max(max[k], f[k]);
                }
            }
            for (int k = 0; k < 4; k++) {
                // brightness, contrast, saturation in [max(0, 1 - s), 1 + s]; hue in [-h, h] (as floats)
                double lo = k < 3 ? Math.max(0, 1 - s[k]) : -s[3];
                double hi = k < 3 ? 1 + s[k] : s[3];
                assertThat((double) min[k]).as("min of factor %d of %s", k, Arrays.toString(s))
                        .isGreaterThanOrEqualTo((float) lo);
                assertThat((double) max[k]).as("max of factor %d of %s", k, Arrays.toString(s))
                        .isLessThanOrEqualTo((float) hi);
                // and they fill the range: over 20000 uniform draws both ends are reached to within 1% of its width
                double slack = 0.01 * (hi - lo) + 1e-6;
                assertThat((double) min[k]).as("min of factor %d of %s", k, Arrays.toString(s)).isLessThanOrEqualTo(lo + slack);
                assertThat((double) max[k]).as("max of factor %d of %s", k, Arrays.toString(s)).isGreaterThanOrEqualTo(hi - slack);
            }
        }
    }

    @Test
    void everyOpAppearsInEveryPositionOfTheOrder() {
        SplittableRandom random = new SplittableRandom(2);
        int[][] count = new int[4][4]; // [op][position]
        for (int i = 0; i < DRAWS; i++) {
            int[] order = ColorJitterParams.sample(random, 0.4, 0.4, 0.4, 0.1).order();
            assertThat(order).hasSize(4);
            assertThat(Arrays.stream(order).sorted().toArray()).as("a permutation of 0..3").containsExactly(0, 1, 2, 3);
            for (int pos = 0; pos < 4; pos++) {
                count[order[pos]][pos]++;
            }
        }
        // a uniform permutation puts each op in each position 1/4 of the time (sd ~61 of 5000 here)
        for (int op = 0; op < 4; op++) {
            for (int pos = 0; pos < 4; pos++) {
                assertThat(count[op][pos]).as("op %d at position %d", op, pos).isBetween(DRAWS / 4 - 400, DRAWS / 4 + 400);
            }
        }
    }

    @Test
    void saturationAndHueChangeColourButNotGrayImages() {
        Image colour = TestImages.random(3, 16, 16, 3);
        Image gray = TestImages.random(1, 16, 16, 4);
        // brightness and contrast 1 and hue 0 are identities; only saturation (or only hue) acts
        ColorJitterParams saturation = new ColorJitterParams(new int[] {0, 1, 2, 3}, 1f, 1f, 0.5f, 0f);
        ColorJitterParams hue = new ColorJitterParams(new int[] {3, 2, 1, 0}, 1f, 1f, 1f, 0.25f);
        for (ColorJitterParams p : new ColorJitterParams[] {saturation, hue}) {
            assertThat(p.apply(colour).data()).isNotEqualTo(colour.data());
            assertThat(p.apply(gray).data()).containsExactly(gray.data());
        }
        assertThat(ImageOps.grayscale(colour).data()).isNotEqualTo(colour.data());
        assertThat(ImageOps.grayscale(gray).data()).containsExactly(gray.data());
    }

    /**
     * A policy whose only random op is saturation (p 1), plus grayscale (p 1), with an identity crop and no blur,
     * solarisation or flip: on a 1-channel image it must give exactly the normalised input (saturation and grayscale
     * are left out); the same policy in colour changes the image.
     */
    @Test
    void oneChannelPolicyLeavesSaturationHueAndGrayscaleOut() {
        Image gray = TestImages.random(1, 28, 28, 5);
        Image colour = TestImages.random(3, 28, 28, 6);
        float[] grayMean = {0.5f};
        float[] grayStd = {0.25f};
        float[] rgbMean = {0.5f, 0.5f, 0.5f};
        float[] rgbStd = {0.25f, 0.25f, 0.25f};
        for (double grayscaleP : new double[] {0.0, 1.0}) {
            // crop scale 1..1 and ratio 1..1 on a square image is the whole image; brightness/contrast strength 0
            // gives factor 1 (an identity); saturation 0.9 and hue 0.5 act on colour only
            ViewPolicy grayPolicy = policy(grayscaleP, grayMean, grayStd);
            ViewPolicy colourPolicy = policy(grayscaleP, rgbMean, rgbStd);
            for (long seed = 0; seed < 20; seed++) {
                float[] view = grayPolicy.apply(gray, new SplittableRandom(seed));
                assertThat(view).as("gray view, grayscale p %s, seed %d", grayscaleP, seed)
                        .containsExactly(ImageOps.normalize(gray, grayMean, grayStd));
                float[] colourView = colourPolicy.apply(colour, new SplittableRandom(seed));
                assertThat(colourView).as("colour view, grayscale p %s, seed %d", grayscaleP, seed)
                        .isNotEqualTo(ImageOps.normalize(colour, rgbMean, rgbStd));
            }
        }
    }

    private static ViewPolicy policy(double grayscaleP, float[] mean, float[] std) {
        return new ViewPolicy("test", 28, 1.0, 1.0, 1.0, 1.0,
                1.0, 0.0, 0.0, 0.9, 0.5, grayscaleP, 0.0, 0.1, 2.0, 0.0, 0.0, mean, std);
    }
}
