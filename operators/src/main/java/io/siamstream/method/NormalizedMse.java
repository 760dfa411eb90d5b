package io.siamstream.method;

import ai.djl.ndarray.NDArray;

/** BYOL's loss: mean over the batch of ||p/|p| - z/|z|||^2 = 2 - 2 cos(p_i, z_i). One loss per file, as in lightly. */
public final class NormalizedMse {

    private NormalizedMse() {}

    /** 2 - 2 mean_i cos(p_i, z_i) for N x D inputs; the caller detaches the target z. */
    public static NDArray of(NDArray p, NDArray z) {
        NDArray pn = p.normalize(2, 1, NegativeCosineSimilarity.EPS);
        NDArray zn = z.normalize(2, 1, NegativeCosineSimilarity.EPS);
        return pn.mul(zn).sum(new int[] {1}).mean().mul(-2f).add(2f);
    }
}
