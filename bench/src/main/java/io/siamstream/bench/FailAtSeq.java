package io.siamstream.bench;

import io.siamstream.record.ImageRecord;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.api.common.functions.MapFunction;

/**
 * Passes images through and throws once when the stream first reaches seq {@code k x everySeqs} (k = 1, 2, ...): an
 * injected task failure about every {@code everySeqs / batch} training steps. Which thresholds have fired is kept in
 * a static set, shared by the parallel instances and surviving the restarts (the MiniCluster runs in this JVM), so
 * the replay of the same seqs after the restore does not fail again.
 */
final class FailAtSeq implements MapFunction<ImageRecord, ImageRecord> {

    private static final long serialVersionUID = 1L;

    /** The thresholds (k) that have fired in this JVM. */
    static final Set<Long> FIRED = ConcurrentHashMap.newKeySet();

    private final long everySeqs;

    /** @param everySeqs seqs between failures (steps x batch); 0 or less: never fail */
    FailAtSeq(long everySeqs) {
        this.everySeqs = everySeqs;
    }

    @Override
    public ImageRecord map(ImageRecord image) {
        if (everySeqs > 0 && image.seq >= everySeqs) {
            long k = image.seq / everySeqs;
            if (FIRED.add(k)) {
                throw new IllegalStateException("soak: injected failure " + k + " at seq " + image.seq
                        + " (every " + everySeqs + " seqs)");
            }
        }
        return image;
    }
}
