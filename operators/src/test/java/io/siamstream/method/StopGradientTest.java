package io.siamstream.method;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.siamstream.train.Engines;
import org.junit.jupiter.api.Test;

class StopGradientTest {

    private static float[] gradientOfTarget(boolean stopGradient) {
        try (NDManager manager = Engines.pyTorch().newBaseManager()) {
            NDArray p = manager.randomNormal(0, 1, new Shape(8, 16), ai.djl.ndarray.types.DataType.FLOAT32);
            NDArray z = manager.randomNormal(0, 1, new Shape(8, 16), ai.djl.ndarray.types.DataType.FLOAT32);
            p.setRequiresGradient(true);
            z.setRequiresGradient(true);
            try (GradientCollector collector = manager.getEngine().newGradientCollector()) {
                NDArray loss = NegativeCosineSimilarity.of(p, stopGradient ? z.stopGradient() : z);
                collector.backward(loss);
            }
            assertThat(p.getGradient().abs().sum().getFloat()).as("gradient into p").isPositive();
            return z.getGradient().toFloatArray();
        }
    }

    @Test
    void stopGradientLeavesTheTargetWithoutGradient() {
        float[] blocked = gradientOfTarget(true);
        float[] open = gradientOfTarget(false);
        assertThat(blocked).containsOnly(0f);
        double openNorm = 0;
        for (float g : open) {
            openNorm += g * g;
        }
        assertThat(openNorm).as("the same loss without stop-gradient sends gradient into z").isGreaterThan(1e-6);
    }

    @Test
    void negativeCosineOfIdenticalAndOppositeVectors() {
        try (NDManager manager = Engines.pyTorch().newBaseManager()) {
            NDArray a = manager.create(new float[] {1, 2, 3, -1, 0, 2}, new Shape(2, 3));
            assertThat(NegativeCosineSimilarity.of(a, a.mul(5)).getFloat()).isCloseTo(-1f, org.assertj.core.data.Offset.offset(1e-6f));
            assertThat(NegativeCosineSimilarity.of(a, a.neg()).getFloat()).isCloseTo(1f, org.assertj.core.data.Offset.offset(1e-6f));
            // orthogonal rows: (1,0) vs (0,1) and (1,1) vs (1,-1)
            NDArray p = manager.create(new float[] {1, 0, 1, 1}, new Shape(2, 2));
            NDArray z = manager.create(new float[] {0, 1, 1, -1}, new Shape(2, 2));
            assertThat(NegativeCosineSimilarity.of(p, z).getFloat()).isCloseTo(0f, org.assertj.core.data.Offset.offset(1e-6f));
        }
    }
}
