package io.siamstream.eval;

import ai.djl.ndarray.NDArray;

/**
 * The SimSiam paper's collapse monitor: the standard deviation over the batch of each dimension of the
 * l2-normalised output, averaged over dimensions. A representation spread over the sphere gives about
 * 1/sqrt(dim); a collapsed one (every image mapped to the same point) gives 0.
 */
public final class CollapseIndicator {

    private CollapseIndicator() {}

    /** The indicator of an N x D batch (unbiased std, as torch.std). */
    public static double of(NDArray z) {
        NDArray zn = z.normalize(2, 1, 1e-12);
        long n = zn.getShape().get(0);
        NDArray centred = zn.sub(zn.mean(new int[] {0}, true));
        NDArray variance = centred.square().sum(new int[] {0}).div((float) Math.max(1, n - 1));
        return variance.sqrt().mean().getFloat();
    }

    /** The indicator of n feature vectors of width dim given as floats. */
    public static double ofFeatures(float[] features, int n, int dim) {
        return ofFeatures(null, features, n, dim);
    }

    /** {@link #ofFeatures(float[], int, int)} computed on {@code device} (null: the engine's default). */
    public static double ofFeatures(ai.djl.Device device, float[] features, int n, int dim) {
        var engine = io.siamstream.train.Engines.pyTorch();
        try (ai.djl.ndarray.NDManager manager = device == null ? engine.newBaseManager() : engine.newBaseManager(device)) {
            return of(manager.create(features, new ai.djl.ndarray.types.Shape(n, dim)));
        }
    }

    /** The healthy value 1/sqrt(dim). */
    public static double reference(long dim) {
        return 1.0 / Math.sqrt(dim);
    }
}
