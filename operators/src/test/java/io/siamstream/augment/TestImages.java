package io.siamstream.augment;

import java.util.SplittableRandom;

/** Seeded images with uniform values in [0, 1), for tests of the image ops. */
final class TestImages {

    private TestImages() {}

    static Image random(int channels, int h, int w, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] data = new float[channels * h * w];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) random.nextDouble();
        }
        return new Image(channels, h, w, data);
    }
}
