package io.siamstream.method;

import ai.djl.ndarray.NDArray;

/**
 * MoCo's InfoNCE: for query q_i, its positive key k_i and the K queued negative keys n_j,
 * l_i = -log( exp(q_i.k_i / T) / (exp(q_i.k_i / T) + sum_j exp(q_i.n_j / T)) ), averaged over the batch; the
 * cross entropy over logits [l_pos, l_neg] with label 0, as the paper's code computes it. Queries and keys are
 * L2-normalised here; the queue holds normalised keys already.
 */
public final class InfoNce {

    private InfoNce() {}

    /**
     * @param q N x D queries (with gradients)
     * @param k N x D keys (detached by the caller)
     * @param queue K x D normalised negative keys
     */
    public static NDArray of(NDArray q, NDArray k, NDArray queue, double temperature) {
        NDArray qn = q.normalize(2, 1, NegativeCosineSimilarity.EPS);
        NDArray kn = k.normalize(2, 1, NegativeCosineSimilarity.EPS);
        NDArray positive = qn.mul(kn).sum(new int[] {1}, true);
        NDArray negative = qn.matMul(queue.transpose());
        NDArray logits = positive.concat(negative, 1).div((float) temperature);
        return logits.logSoftmax(1).get(":, 0").mean().neg();
    }
}
