package io.siamstream.augment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ImageOpsTest {

    @Test
    void flipIsAnExactMirror() {
        Image img = TestImages.random(3, 5, 7, 1);
        Image flipped = ImageOps.horizontalFlip(img);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 5; y++) {
                for (int x = 0; x < 7; x++) {
                    assertThat(flipped.get(c, y, x)).isEqualTo(img.get(c, y, 6 - x));
                }
            }
        }
        assertThat(ImageOps.horizontalFlip(flipped).data()).containsExactly(img.data());
    }

    @Test
    void cropBoxesStayWithinScaleAndAspectRanges() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 5000; i++) {
            CropBox box = RandomResizedCrop.sampleBox(random, 224, 224, 0.2, 1.0, 3.0 / 4, 4.0 / 3);
            assertThat(box.top()).isBetween(0, 224 - box.height());
            assertThat(box.left()).isBetween(0, 224 - box.width());
            // rounding of w and h to whole pixels widens the continuous bounds slightly
            assertThat(box.area() / (224 * 224)).isBetween(0.2 * 0.98, 1.0);
            assertThat(box.aspectRatio()).isBetween(0.75 * 0.98, 4.0 / 3 * 1.02);
        }
    }

    @Test
    void identityCropResizeReturnsTheImage() {
        Image img = TestImages.random(1, 28, 28, 2);
        Image same = ImageOps.resizedCrop(img, new CropBox(0, 0, 28, 28), 28, 28);
        assertThat(same.data()).containsExactly(img.data());
    }

    @Test
    void blurPreservesMeanAndReducesVariance() {
        Image img = TestImages.random(1, 32, 32, 3);
        Image blurred = ImageOps.gaussianBlur(img, 5, 1.5f);
        assertThat(mean(blurred.data())).isCloseTo(mean(img.data()), offset(0.01));
        assertThat(variance(blurred.data())).isLessThan(variance(img.data()) * 0.5);
        assertThatThrownBy(() -> ImageOps.gaussianBlur(img, 4, 1f)).hasMessageContaining("odd");
    }

    @Test
    void colourOpsAreNoOpsOnGrayImages() {
        Image gray = TestImages.random(1, 8, 8, 4);
        assertThat(ImageOps.adjustSaturation(gray, 0.3f)).isSameAs(gray);
        assertThat(ImageOps.adjustHue(gray, 0.2f)).isSameAs(gray);
        assertThat(ImageOps.grayscale(gray)).isSameAs(gray);
    }

    @Test
    void viewsAreDeterministicPerSeedAndDifferBetweenViews() {
        Image img = TestImages.random(1, 28, 28, 5);
        ViewPolicy policy = ViewPolicies.fashionMnist();
        float[] a = Views.make(policy, img, 42, 17, 3, 0);
        float[] again = Views.make(policy, img, 42, 17, 3, 0);
        float[] otherView = Views.make(policy, img, 42, 17, 3, 1);
        float[] otherEpoch = Views.make(policy, img, 42, 17, 4, 0);
        assertThat(again).containsExactly(a);
        assertThat(otherView).isNotEqualTo(a);
        assertThat(otherEpoch).isNotEqualTo(a);
    }

    @Test
    void policyValidationNamesTheOption() {
        assertThatThrownBy(() -> new ViewPolicy("v1", 28, 0.5, 0.2, 0.75, 1.33, 0.8, 0.4, 0.4, 0.4, 0.1, 0.2,
                0, 0.1, 2, 0, 0.5, new float[] {0.5f}, new float[] {0.5f}))
                .hasMessageContaining("augment.v1.crop-scale");
        assertThatThrownBy(() -> new ViewPolicy("v1", 28, 0.2, 1, 0.75, 1.33, 1.8, 0.4, 0.4, 0.4, 0.1, 0.2,
                0, 0.1, 2, 0, 0.5, new float[] {0.5f}, new float[] {0.5f}))
                .hasMessageContaining("augment.v1.jitter-probability");
    }

    private static double mean(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return s / v.length;
    }

    private static double variance(float[] v) {
        double m = mean(v);
        double s = 0;
        for (float x : v) {
            s += (x - m) * (x - m);
        }
        return s / v.length;
    }
}
