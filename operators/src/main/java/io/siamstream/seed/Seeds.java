package io.siamstream.seed;

import java.nio.charset.StandardCharsets;

/**
 * Derives independent 64-bit seeds from tuples such as (run seed, record id, epoch, view). Every random draw in
 * siamstream starts from a seed made here, so a replay after a failure draws exactly the same numbers.
 */
public final class Seeds {

    private Seeds() {}

    /** Mixes the parts in order with the SplitMix64 finaliser; different tuples give statistically independent seeds. */
    public static long derive(long... parts) {
        long h = 0x9E3779B97F4A7C15L;
        for (long part : parts) {
            h = mix64(h ^ mix64(part + 0x9E3779B97F4A7C15L));
        }
        return h;
    }

    /** A stable 64-bit code of a name (FNV-1a over its UTF-8 bytes), for seeds keyed by parameter names. */
    public static long ofName(String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h ^= (b & 0xff);
            h *= 0x100000001b3L;
        }
        return h;
    }

    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
