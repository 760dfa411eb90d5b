package io.siamstream.method;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import io.siamstream.model.SiameseNetwork;
import io.siamstream.train.Tensor;
import java.util.Map;

/**
 * A self-supervised method: the trained network, an optional momentum network, extra state such as a queue, how the
 * loss is computed from two views, and what is updated after each optimizer step. The learner, its state codec, the
 * training operator and the evaluation are the same for every method.
 *
 * <p>Call order within one learner step: {@link #forward} inside the gradient collector, backward, the optimizer's
 * update of the online network, then {@link #afterUpdate} (no gradients recorded).
 */
public interface SslMethod {

    /** The method's name, as written in configuration. */
    String name();

    /** The network whose trainable parameters the optimizer updates; its encoder is what gets evaluated and exported. */
    SiameseNetwork online();

    /**
     * The momentum network (BYOL's target, MoCo's key encoder), or null. Its parameters carry the same names as the
     * online network's parts it mirrors; it starts as a copy of them, is never trained by the optimizer and is saved
     * with every checkpoint.
     */
    default SiameseNetwork target() {
        return null;
    }

    /**
     * Blocks whose parameters belong to the optimizer's "fixed learning rate" group (SimSiam's predictor with
     * the fix-lr option), or none.
     */
    default Block fixedLrBlock() {
        return null;
    }

    /**
     * Creates the method's extra state (MoCo's queue and pointer) in {@code manager}: from {@code saved} when it is
     * not empty (a restore), else fresh values drawn from {@code seed}.
     */
    default void initState(NDManager manager, long seed, Map<String, Tensor> saved) {}

    /** The method's extra state (not parameters), by name, as copies for a checkpoint. */
    default Map<String, Tensor> saveState() {
        return Map.of();
    }

    /**
     * Runs both views through the networks in training mode, inside the caller's gradient collector.
     *
     * @return the scalar loss, and for view 1 the projection z and the online output that the loss compares
     *     (SimSiam, BYOL: the prediction p; methods without a predictor: z again)
     */
    Output forward(ParameterStore store, NDArray view1, NDArray view2);

    /**
     * Tells the method where the parameters' arrays lie in flat buffers, so that its momentum update (if any) can run
     * over contiguous runs; called by the learner before the first step. Without it, updates go tensor by tensor.
     */
    default void useFlatLocator(FlatLocator locator) {}

    /**
     * Runs after the optimizer applied update {@code step} (0 for the first) with schedule progress
     * {@code progress} in [0, 1]: momentum updates of the target, enqueueing keys. Not called for a skipped step.
     */
    default void afterUpdate(long step, double progress) {}

    /** The loss of one step and view 1's projection and online output, for the collapse indicators. */
    record Output(NDArray loss, NDArray projection, NDArray output) {}
}
