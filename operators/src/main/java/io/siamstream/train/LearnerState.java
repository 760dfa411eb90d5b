package io.siamstream.train;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything a learner needs to continue exactly where it stopped.
 *
 * <p>Tensors are keyed {@code param/<name>} (trainable parameters and batch-norm running statistics),
 * {@code momentum/<name>} (the optimizer's buffers), {@code target/<name>} (a momentum network's parameters and
 * statistics) and {@code method/<name>} (a method's extra state such as MoCo's queue). {@code step} is the schedule position (completed updates);
 * {@code seed} is the run seed that parameters were drawn from. The step itself draws no random numbers
 * (augmentation happens before it), so no further generator state exists to save.
 *
 * @param fingerprint {@link LearnerConfig#modelFingerprint()} of the learner that wrote it
 * @param skippedSteps the number of steps skipped for a non-finite loss so far
 */
public record LearnerState(String fingerprint, long step, long skippedSteps, long seed, Map<String, Tensor> tensors) {

    public static final String PARAM = "param/";
    public static final String MOMENTUM = "momentum/";
    /** The momentum network's parameters and statistics (BYOL's target, MoCo's key encoder). */
    public static final String TARGET = "target/";
    /** The method's extra state (MoCo's queue and its pointer). */
    public static final String METHOD = "method/";

    public LearnerState {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /** The tensors whose key starts with {@code prefix}, keyed without it. */
    public Map<String, Tensor> withPrefix(String prefix) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        tensors.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }

    /** Total bytes of tensor data. */
    public long tensorBytes() {
        return tensors.values().stream().mapToLong(t -> 4L * t.data().length).sum();
    }
}
