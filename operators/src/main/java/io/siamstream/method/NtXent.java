package io.siamstream.method;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * SimCLR's normalised temperature-scaled cross entropy over the 2N views of a batch: for view i with positive j (the
 * other view of the same image), l_i = -log( exp(s_ij / T) / sum_{k != i} exp(s_ik / T) ) with s the cosine
 * similarity; the loss is the mean of l over all 2N views. The other 2N - 2 views of the batch are the negatives.
 */
public final class NtXent {

    /** Subtracted from the self-similarity logits: exp underflows to exactly 0, as PyTorch's masked_fill(-inf). */
    private static final float SELF_MASK = 1e9f;

    private NtXent() {}

    public static NDArray of(NDArray z1, NDArray z2, double temperature) {
        int n = Math.toIntExact(z1.getShape().get(0));
        int m = 2 * n;
        NDArray z = z1.normalize(2, 1, NegativeCosineSimilarity.EPS)
                .concat(z2.normalize(2, 1, NegativeCosineSimilarity.EPS), 0);
        NDManager manager = z1.getManager();
        float[] self = new float[m * m];
        float[] positive = new float[m * m];
        for (int i = 0; i < m; i++) {
            self[i * m + i] = SELF_MASK;
            positive[i * m + (i + n) % m] = 1f;
        }
        NDArray logits = z.matMul(z.transpose()).div((float) temperature)
                .sub(manager.create(self, new Shape(m, m)));
        NDArray logProb = logits.logSoftmax(1);
        return logProb.mul(manager.create(positive, new Shape(m, m))).sum().div(-m);
    }

}
