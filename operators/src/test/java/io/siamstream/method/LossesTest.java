package io.siamstream.method;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.siamstream.train.Engines;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each method's loss on tiny tensors against values worked out by hand (the arithmetic is in the comments). */
class LossesTest {

    private static NDManager manager;

    @BeforeAll
    static void start() {
        manager = Engines.pyTorch().newBaseManager();
    }

    @AfterAll
    static void stop() {
        manager.close();
    }

    private static NDArray rows(float[][] values) {
        int d = values[0].length;
        float[] flat = new float[values.length * d];
        for (int i = 0; i < values.length; i++) {
            System.arraycopy(values[i], 0, flat, i * d, d);
        }
        return manager.create(flat, new Shape(values.length, d));
    }

    @Test
    void normalizedMseIsTwoMinusTwiceTheMeanCosine() {
        // cos((1,0),(0,1)) = 0 -> 2; cos((1,1),(2,2)) = 1 -> 0; cos((3,4),(4,3)) = 24/25 -> 2 - 48/25 = 0.08
        NDArray p = rows(new float[][] {{1, 0}, {1, 1}, {3, 4}});
        NDArray z = rows(new float[][] {{0, 1}, {2, 2}, {4, 3}});
        assertThat(NormalizedMse.of(p, z).getFloat()).isCloseTo((2f + 0f + 0.08f) / 3, within(1e-6f));
    }

    @Test
    void ntXentWithIdenticalViewsOfOrthogonalImages() {
        // z = [e1, e2, e1, e2] / T with T = 0.5. Row 0: self masked; e2 -> 0, its positive e1 -> 1/0.5 = 2, e2 -> 0.
        // l = -log(e^2 / (e^0 + e^2 + e^0)) = log(e^2 + 2) - 2, the same for all four rows.
        NDArray z1 = rows(new float[][] {{1, 0}, {0, 1}});
        NDArray z2 = rows(new float[][] {{1, 0}, {0, 1}});
        assertThat(NtXent.of(z1, z2, 0.5).getFloat()).isCloseTo((float) (Math.log(Math.exp(2) + 2) - 2), within(1e-6f));
    }

    @Test
    void ntXentWhenThePositiveIsOrthogonalAndANegativeIsIdentical() {
        // z = [e1, e2, e2, e1]: row 0's positive (row 2, e2) scores 0, negatives e2 -> 0 and e1 -> 2.
        // l = -log(e^0 / (e^0 + e^0 + e^2)) = log(2 + e^2) for every row.
        NDArray z1 = rows(new float[][] {{1, 0}, {0, 1}});
        NDArray z2 = rows(new float[][] {{0, 1}, {1, 0}});
        assertThat(NtXent.of(z1, z2, 0.5).getFloat()).isCloseTo((float) Math.log(2 + Math.exp(2)), within(1e-5f));
    }

    @Test
    void ntXentNormalisesAndHasNoNegativesForOneImage() {
        // One image: each view's only other view is its positive, so each row is -log(1) = 0, whatever the scale.
        NDArray z1 = rows(new float[][] {{3, 4}});
        NDArray z2 = rows(new float[][] {{6, 8}});
        assertThat(NtXent.of(z1, z2, 1.0).getFloat()).isCloseTo(0f, within(1e-6f));
    }

    @Test
    void infoNceAgainstTheQueue() {
        // T = 0.2. Row 0: q = e1, k = (2,0) -> e1, queue [e2, -e1]: logits [1, 0, -1] / 0.2 = [5, 0, -5],
        //   l0 = log(e^5 + 1 + e^-5) - 5.
        // Row 1: q = (0,3) -> e2, k = e2, queue: logits [1, 1, 0] / 0.2 = [5, 5, 0], l1 = log(2 e^5 + 1) - 5.
        NDArray q = rows(new float[][] {{1, 0}, {0, 3}});
        NDArray k = rows(new float[][] {{2, 0}, {0, 1}});
        NDArray queue = rows(new float[][] {{0, 1}, {-1, 0}});
        double l0 = Math.log(Math.exp(5) + 1 + Math.exp(-5)) - 5;
        double l1 = Math.log(2 * Math.exp(5) + 1) - 5;
        assertThat(InfoNce.of(q, k, queue, 0.2).getFloat()).isCloseTo((float) ((l0 + l1) / 2), within(1e-5f));
    }

    @Test
    void byolTauFollowsTheHalfCosineFromBaseToOne() {
        ByolConfig byol = ByolConfig.paper();
        assertThat(byol.tauAt(0)).isEqualTo(0.996);
        assertThat(byol.tauAt(0.5)).isCloseTo(0.998, within(1e-12));
        assertThat(byol.tauAt(1)).isEqualTo(1.0);
    }
}
