package io.siamstream.seed;

import java.util.SplittableRandom;

/**
 * The order in which a replayed dataset visits its images: epoch e is a Fisher-Yates shuffle seeded by
 * (run seed, e). Occurrence number (sequence number) s is position (s mod size) of epoch (s div size). The replay
 * source and the reference training loop share this, so both see the same images in the same order.
 */
public final class ReplayOrder {

    private static final long SHUFFLE = 0x5EEDL;

    private ReplayOrder() {}

    public static int[] shuffled(int size, long runSeed, long epoch) {
        int[] order = new int[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(Seeds.derive(runSeed, epoch, SHUFFLE));
        for (int i = size - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
