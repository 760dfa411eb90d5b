package io.siamstream.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.siamstream.train.Engines;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The backbones run channels last ({@link NamedSequential#channelsLastInput}) for speed only: the layout must not
 * change what they compute beyond the rounding of a different kernel.
 */
class ChannelsLastTest {

    private static float[] gaussian(int n, long seed) {
        Random random = new Random(seed);
        float[] values = new float[n];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    @Test
    void theSameValuesInTheOtherLayout() {
        try (NDManager manager = Engines.pyTorch().newBaseManager()) {
            float[] data = gaussian(2 * 3 * 5 * 4, 1);
            NDArray x = manager.create(data, new Shape(2, 3, 5, 4));
            NDArray nhwc = Layers.channelsLast(x);
            assertThat(nhwc.getShape()).isEqualTo(new Shape(2, 3, 5, 4));
            assertThat(nhwc.toFloatArray()).containsExactly(data);
            // an elementwise op on it sees the same logical tensor (a reduction may round differently: another order)
            assertThat(nhwc.mul(2f).add(x).toFloatArray()).containsExactly(x.mul(3f).toFloatArray());
        }
    }

    /** Features, and gradients of a fixed linear function of them, with the input channels last and as it comes. */
    @ParameterizedTest
    @CsvSource({"CONVNET, 1, 28, 1", "CONVNET, 1, 28, 4", "RESNET18_CIFAR, 3, 32, 1", "RESNET18_CIFAR, 3, 32, 2"})
    void theBackboneComputesTheSameInEitherLayout(EncoderKind kind, int channels, int size, int grid) {
        Encoder encoder = Encoders.create(new EncoderConfig(kind, channels, 0.25, grid));
        NamedSequential block = (NamedSequential) encoder.block();
        int batch = 4;
        try (NDManager manager = Engines.pyTorch().newBaseManager()) {
            Engines.pyTorch().setRandomSeed(17); // the same initial parameters in every run
            block.initialize(manager, DataType.FLOAT32, new Shape(batch, channels, size, size));
            NDArray images = manager.create(gaussian(batch * channels * size * size, 7),
                    new Shape(batch, channels, size, size));
            NDArray weights = manager.create(gaussian(batch * encoder.featureDim(), 11),
                    new Shape(batch, encoder.featureDim()));

            block.channelsLastInput(true);
            List<float[]> channelsLast = forwardAndBackward(manager, block, images, weights);
            // each layout on its own is deterministic: recovery replays a step bit for bit
            assertThat(forwardAndBackward(manager, block, images, weights)).containsExactlyElementsOf(channelsLast);
            block.channelsLastInput(false);
            List<float[]> contiguous = forwardAndBackward(manager, block, images, weights);

            assertThat(channelsLast).hasSameSizeAs(contiguous);
            for (int i = 0; i < contiguous.size(); i++) {
                float[] expected = contiguous.get(i);
                float[] actual = channelsLast.get(i);
                assertThat(actual).hasSameSizeAs(expected);
                double diff = 0;
                double norm = 0;
                for (int j = 0; j < expected.length; j++) {
                    diff += (actual[j] - expected[j]) * (double) (actual[j] - expected[j]);
                    norm += expected[j] * (double) expected[j];
                }
                // Relative to the whole array. The features differ by rounding only. A gradient can differ by more:
                // when a pre-activation lies within rounding of zero, the two layouts' ReLUs can disagree on it, and
                // every layer before it sees that (about 1% of an early layer's gradient, against 1e-6 without one).
                // A wrong kernel would be off by the gradient's own size.
                assertThat(Math.sqrt(diff / norm)).as("%s grid %d, array %d (0: the features)", kind, grid, i)
                        .isLessThan(i == 0 ? 1e-4 : 5e-2);
            }
        }
    }

    /** The features, then each trainable parameter's gradient of sum(features * weights), in parameter order. */
    private static List<float[]> forwardAndBackward(NDManager manager, NamedSequential block, NDArray images,
            NDArray weights) {
        List<float[]> out = new ArrayList<>();
        ParameterStore store = new ParameterStore(manager, false);
        try (GradientCollector collector = Engines.pyTorch().newGradientCollector()) {
            NDArray features = block.forward(store, new NDList(images), true).singletonOrThrow();
            out.add(features.toFloatArray());
            collector.backward(features.mul(weights).sum());
        }
        for (var pair : block.getParameters()) {
            Parameter p = pair.getValue();
            if (p.requiresGradient()) {
                NDArray grad = p.getArray().getGradient();
                out.add(grad.toFloatArray());
                grad.subi(grad); // zero for the other layout's pass
            }
        }
        return out;
    }
}
