package io.siamstream.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.connectors.model.Npy;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The race's scorer reads each side's .npy features and scores them with the job's kNN and linear probe. */
class FeatureScoreTest {

    /** n points per class around class-specific directions; noise 0 separates them, large noise does not. */
    private static void write(Path dir, String name, int perClass, double noise, long seed) throws IOException {
        int classes = 3;
        int dim = 8;
        Random random = new Random(seed);
        for (String split : new String[] {"train", "test"}) {
            int n = perClass * classes;
            float[] x = new float[n * dim];
            long[] y = new long[n];
            for (int i = 0; i < n; i++) {
                y[i] = i % classes;
                for (int d = 0; d < dim; d++) {
                    x[i * dim + d] = (float) ((d == y[i] ? 1 : 0) + noise * random.nextGaussian());
                }
            }
            try (OutputStream out = Files.newOutputStream(dir.resolve(name + "-" + split + ".npy"))) {
                Npy.writeF32(out, x, n, dim);
            }
            try (OutputStream out = Files.newOutputStream(dir.resolve(name + "-" + split + ".labels.npy"))) {
                Npy.writeI64(out, y, n);
            }
        }
    }

    @Test
    void separableFeaturesScoreOneAndNoiseScoresAboutChance(@TempDir Path dir) throws IOException {
        write(dir, "clean", 100, 0.05, 1);
        write(dir, "noise", 100, 50, 2);
        String clean = FeatureScore.score(dir, "clean");
        String noise = FeatureScore.score(dir, "noise");
        assertThat(clean).contains("\"knn\": 1.0000", "\"linear\": 1.0000", "\"bank\": 300", "\"dim\": 8");
        double knn = Double.parseDouble(noise.replaceAll(".*\"knn\": ([0-9.]+).*", "$1"));
        assertThat(knn).isBetween(0.15, 0.55);
    }

    @Test
    void labelsThatDoNotMatchTheFeaturesAreRefused(@TempDir Path dir) throws IOException {
        write(dir, "x", 10, 0.1, 3);
        try (OutputStream out = Files.newOutputStream(dir.resolve("x-test.labels.npy"))) {
            Npy.writeI64(out, new long[] {0, 1}, 2);
        }
        assertThatThrownBy(() -> FeatureScore.score(dir, "x")).hasMessageContaining("expected 30 int64 labels");
    }
}
