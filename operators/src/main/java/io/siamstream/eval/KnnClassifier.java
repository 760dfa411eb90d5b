package io.siamstream.eval;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.siamstream.train.Engines;

/**
 * Weighted k-nearest-neighbour classification on l2-normalised features (Wu et al. 2018, as used to monitor SimSiam
 * and MoCo): each of the k most cosine-similar bank samples votes for its label with weight exp(similarity / T);
 * the class with the largest total wins. Defaults k = 200, T = 0.1.
 */
public final class KnnClassifier {

    private static final int QUERY_CHUNK = 256;

    private final int k;
    private final double temperature;
    private final int numClasses;

    public KnnClassifier(int k, double temperature, int numClasses) {
        if (k < 1) {
            throw new IllegalArgumentException("eval.knn-k: " + k + " must be at least 1");
        }
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("eval.knn-temperature: " + temperature + " must be > 0");
        }
        if (numClasses < 2) {
            throw new IllegalArgumentException("number of classes " + numClasses + " must be at least 2");
        }
        this.k = k;
        this.temperature = temperature;
        this.numClasses = numClasses;
    }

    public static KnnClassifier standard(int numClasses) {
        return new KnnClassifier(200, 0.1, numClasses);
    }

    /**
     * Top-1 accuracy of the queries against the labelled bank.
     *
     * @param bank bankLabels.length x dim features
     * @param queries queryLabels.length x dim features
     */
    public double accuracy(float[] bank, int[] bankLabels, float[] queries, int[] queryLabels, int dim) {
        return accuracy(null, bank, bankLabels, queries, queryLabels, dim);
    }

    /** {@link #accuracy(float[], int[], float[], int[], int)} computed on {@code device} (null: the engine's default). */
    public double accuracy(Device device, float[] bank, int[] bankLabels, float[] queries, int[] queryLabels, int dim) {
        int[] predicted = predict(device, bank, bankLabels, queries, queryLabels.length, dim);
        int correct = 0;
        for (int i = 0; i < predicted.length; i++) {
            if (predicted[i] == queryLabels[i]) {
                correct++;
            }
        }
        return (double) correct / predicted.length;
    }

    /** The predicted class of each of {@code queryCount} queries. */
    public int[] predict(float[] bank, int[] bankLabels, float[] queries, int queryCount, int dim) {
        return predict(null, bank, bankLabels, queries, queryCount, dim);
    }

    /** {@link #predict(float[], int[], float[], int, int)} computed on {@code device} (null: the engine's default). */
    public int[] predict(Device device, float[] bank, int[] bankLabels, float[] queries, int queryCount, int dim) {
        int bankCount = bankLabels.length;
        if ((long) bankCount * dim != bank.length || (long) queryCount * dim != queries.length) {
            throw new IllegalArgumentException("feature arrays do not match the counts and dim " + dim);
        }
        int kk = Math.min(k, bankCount);
        int[] predicted = new int[queryCount];
        try (NDManager manager = device == null ? Engines.pyTorch().newBaseManager()
                : Engines.pyTorch().newBaseManager(device)) {
            NDArray bankT = manager.create(bank, new Shape(bankCount, dim)).normalize(2, 1, 1e-12).transpose();
            for (int from = 0; from < queryCount; from += QUERY_CHUNK) {
                int count = Math.min(QUERY_CHUNK, queryCount - from);
                try (NDManager chunk = manager.newSubManager()) {
                    float[] slice = java.util.Arrays.copyOfRange(queries, from * dim, (from + count) * dim);
                    NDArray q = chunk.create(slice, new Shape(count, dim)).normalize(2, 1, 1e-12);
                    NDList top = q.matMul(bankT).topK(kk, 1, true, true);
                    float[] sims = top.get(0).toFloatArray();
                    long[] indices = top.get(1).toLongArray();
                    double[] scores = new double[numClasses];
                    for (int i = 0; i < count; i++) {
                        java.util.Arrays.fill(scores, 0);
                        for (int j = 0; j < kk; j++) {
                            int label = bankLabels[(int) indices[i * kk + j]];
                            scores[label] += Math.exp(sims[i * kk + j] / temperature);
                        }
                        int best = 0;
                        for (int c = 1; c < numClasses; c++) {
                            if (scores[c] > scores[best]) {
                                best = c;
                            }
                        }
                        predicted[from + i] = best;
                    }
                }
            }
        }
        return predicted;
    }
}
