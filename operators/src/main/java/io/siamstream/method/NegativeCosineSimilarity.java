package io.siamstream.method;

import ai.djl.ndarray.NDArray;

/** D(p, z) = -mean over the batch of cos(p_i, z_i): SimSiam's distance, one loss per file as in lightly. */
public final class NegativeCosineSimilarity {

    /** PyTorch's F.normalize default: the norm is clamped below at this value. */
    static final double EPS = 1e-12;

    private NegativeCosineSimilarity() {}

    /** -mean_i cos(p_i, z_i) for N x D inputs; gradients flow into both arguments unless the caller detaches one. */
    public static NDArray of(NDArray p, NDArray z) {
        NDArray pn = p.normalize(2, 1, EPS);
        NDArray zn = z.normalize(2, 1, EPS);
        return pn.mul(zn).sum(new int[] {1}).mean().neg();
    }
}
