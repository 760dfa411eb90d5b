package io.siamstream.augment;

import io.siamstream.seed.Seeds;
import java.util.SplittableRandom;

/** Makes view {@code view} of a record with a generator seeded by (run seed, record id, epoch, view). */
public final class Views {

    private Views() {}

    public static SplittableRandom random(long runSeed, long recordId, long epoch, int view) {
        return new SplittableRandom(Seeds.derive(runSeed, recordId, epoch, view));
    }

    public static float[] make(ViewPolicy policy, Image image, long runSeed, long recordId, long epoch, int view) {
        return policy.apply(image, random(runSeed, recordId, epoch, view));
    }
}
