package io.siamstream.train;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything a learner needs to continue exactly where it stopped.
 *
 * <p>Tensors are keyed {@code param/<name>} (trainable parameters and batch-norm running statistics) and
 * {@code momentum/<name>} (the optimizer's buffers). {@code step} is the schedule position (completed updates);
 * {@code seed} is the run seed that parameters were drawn from. The step itself draws no random numbers
 * (augmentation happens before it), so no further generator state exists to save.
 *
 * @param fingerprint {@link LearnerConfig#modelFingerprint()} of the learner that wrote it
 * @param skippedSteps the number of steps skipped for a non-finite loss so far
 */
public record LearnerState(String fingerprint, long step, long skippedSteps, long seed, Map<String, Tensor> tensors) {

    public static final String PARAM = "param/";
    public static final String MOMENTUM = "momentum/";

    public LearnerState {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /** Total bytes of tensor data. */
    public long tensorBytes() {
        return tensors.values().stream().mapToLong(t -> 4L * t.data().length).sum();
    }
}
