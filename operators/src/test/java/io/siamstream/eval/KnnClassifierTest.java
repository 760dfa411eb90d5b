package io.siamstream.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class KnnClassifierTest {

    /** n points per class around one direction per class, plus noise. */
    private static float[] clusters(int perClass, int classes, int dim, double noise, long seed, int[] labels) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] out = new float[perClass * classes * dim];
        for (int i = 0; i < perClass * classes; i++) {
            int c = i % classes;
            labels[i] = c;
            for (int d = 0; d < dim; d++) {
                out[i * dim + d] = (float) ((d == c ? 1 : 0) + noise * random.nextGaussian());
            }
        }
        return out;
    }

    @Test
    void separableClustersAreClassifiedCorrectly() {
        int[] bankLabels = new int[500];
        int[] queryLabels = new int[100];
        float[] bank = clusters(50, 10, 16, 0.1, 1, bankLabels);
        float[] queries = clusters(10, 10, 16, 0.1, 2, queryLabels);
        assertThat(KnnClassifier.standard(10).accuracy(bank, bankLabels, queries, queryLabels, 16)).isEqualTo(1.0);
    }

    @Test
    void shuffledBankLabelsGiveChance() {
        int[] bankLabels = new int[2000];
        int[] queryLabels = new int[500];
        float[] bank = clusters(200, 10, 16, 0.1, 1, bankLabels);
        float[] queries = clusters(50, 10, 16, 0.1, 2, queryLabels);
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < bankLabels.length; i++) {
            bankLabels[i] = random.nextInt(10);
        }
        double acc = KnnClassifier.standard(10).accuracy(bank, bankLabels, queries, queryLabels, 16);
        assertThat(acc).isBetween(0.0, 0.3);
    }

    @Test
    void nearerNeighboursWeighMore() {
        // one bank point of class 1 identical to the query outweighs two farther points of class 0 at T = 0.1
        float[] bank = {1, 0, 0.6f, 0.8f, 0.6f, -0.8f};
        int[] labels = {1, 0, 0};
        float[] query = {1, 0};
        assertThat(new KnnClassifier(3, 0.1, 2).predict(bank, labels, query, 1, 2)).containsExactly(1);
        assertThat(new KnnClassifier(3, 100, 2).predict(bank, labels, query, 1, 2)).as("flat weights: majority")
                .containsExactly(0);
    }

    @Test
    void badSettingsNameTheOption() {
        assertThatThrownBy(() -> new KnnClassifier(0, 0.1, 10)).hasMessageContaining("eval.knn-k");
        assertThatThrownBy(() -> new KnnClassifier(200, 0, 10)).hasMessageContaining("eval.knn-temperature");
    }
}
