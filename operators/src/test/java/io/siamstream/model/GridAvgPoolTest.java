package io.siamstream.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.siamstream.train.Engines;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * {@link Layers#gridAvgPool}: each cell's mean, flattened channel by channel and row by row, with PyTorch's adaptive
 * bounds ([floor(i h / g), ceil((i + 1) h / g))), computed here by plain loops on the same numbers.
 */
class GridAvgPoolTest {

    @ParameterizedTest
    @CsvSource({"4, 4, 2, false", "4, 4, 4, false", "7, 7, 2, false", "5, 3, 2, false", "7, 7, 3, false",
            "4, 4, 2, true", "4, 4, 4, true", "7, 7, 3, true"})
    void cellMeansInPyTorchsOrderAndBounds(int h, int w, int grid, boolean channelsLast) {
        int n = 2;
        int c = 3;
        float[] data = new float[n * c * h * w];
        Random random = new Random(h * 31 + w * 7 + grid);
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) random.nextGaussian();
        }
        try (NDManager manager = Engines.pyTorch().newBaseManager()) {
            NDArray x = manager.create(data, new Shape(n, c, h, w));
            if (channelsLast) {
                x = Layers.channelsLast(x); // the layout the backbones run in
            }
            NDArray pooled = Layers.gridAvgPool(x, grid);
            assertThat(pooled.getShape()).isEqualTo(new Shape(n, (long) c * grid * grid));
            float[] actual = pooled.toFloatArray();
            for (int b = 0; b < n; b++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int i = 0; i < grid; i++) {
                        for (int j = 0; j < grid; j++) {
                            int y0 = i * h / grid;
                            int y1 = ((i + 1) * h + grid - 1) / grid;
                            int x0 = j * w / grid;
                            int x1 = ((j + 1) * w + grid - 1) / grid;
                            double sum = 0;
                            for (int y = y0; y < y1; y++) {
                                for (int xx = x0; xx < x1; xx++) {
                                    sum += data[((b * c + ch) * h + y) * w + xx];
                                }
                            }
                            float expected = (float) (sum / ((y1 - y0) * (x1 - x0)));
                            assertThat(actual[b * c * grid * grid + ch * grid * grid + i * grid + j])
                                    .as("sample %d channel %d cell (%d, %d)", b, ch, i, j)
                                    .isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5f));
                        }
                    }
                }
            }
        }
    }

    @Test
    void theEncodersFeaturesGrowWithTheCells() {
        assertThat(Encoders.create(new EncoderConfig(EncoderKind.CONVNET, 1, 1.0, 2)).featureDim()).isEqualTo(1024);
        assertThat(Encoders.create(new EncoderConfig(EncoderKind.CONVNET, 1, 1.0)).featureDim()).isEqualTo(256);
        assertThat(Encoders.create(new EncoderConfig(EncoderKind.RESNET18_CIFAR, 3, 0.5, 2)).featureDim())
                .isEqualTo(1024);
    }

    @Test
    void aGridOutOfRangeFailsNamingTheOptionAndTheRange() {
        assertThatThrownBy(() -> new EncoderConfig(EncoderKind.CONVNET, 1, 1.0, 0))
                .hasMessageContaining("encoder.pool-grid").hasMessageContaining("1 to 4");
        assertThatThrownBy(() -> new EncoderConfig(EncoderKind.CONVNET, 1, 1.0, 5))
                .hasMessageContaining("encoder.pool-grid").hasMessageContaining("1 to 4");
    }
}
