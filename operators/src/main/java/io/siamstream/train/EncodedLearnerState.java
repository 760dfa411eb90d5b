package io.siamstream.train;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@link LearnerState} whose tensors are already in the codec's bytes ({@link LearnerStateCodec#encodeTensor}):
 * what {@link Learner#snapshotEncoded()} copies out of the engine, so that writing it somewhere needs no further
 * encoding.
 */
public record EncodedLearnerState(String fingerprint, long step, long skippedSteps, long seed,
                                  Map<String, byte[]> tensors) {

    public EncodedLearnerState {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /** The header fields without tensors (what {@link LearnerStateCodec#encodeIndex} writes). */
    public LearnerState header() {
        return new LearnerState(fingerprint, step, skippedSteps, seed, Map.of());
    }

    /** The decoded state. */
    public LearnerState decode() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        tensors.forEach((name, bytes) -> out.put(name, LearnerStateCodec.decodeTensor(bytes)));
        return new LearnerState(fingerprint, step, skippedSteps, seed, out);
    }

    /** Total encoded bytes of the tensors. */
    public long bytes() {
        return tensors.values().stream().mapToLong(b -> b.length).sum();
    }
}
