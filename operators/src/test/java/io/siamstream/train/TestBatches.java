package io.siamstream.train;

import java.util.SplittableRandom;

/** Random view pairs for tests that need input but not meaning: view 2 is view 1 plus noise. */
public final class TestBatches {

    private TestBatches() {}

    public static ViewBatch random(long seed, int n, int channels, int size) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] v1 = new float[n * channels * size * size];
        float[] v2 = new float[v1.length];
        for (int i = 0; i < v1.length; i++) {
            v1[i] = (float) random.nextGaussian();
            v2[i] = v1[i] + 0.3f * (float) random.nextGaussian();
        }
        return new ViewBatch(n, channels, size, size, v1, v2);
    }
}
