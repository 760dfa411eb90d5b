package io.siamstream.method;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import io.siamstream.model.SiameseNetwork;

/**
 * A self-supervised method: the trained network, how its loss is computed from two views, and what it updates
 * after each optimizer step. The learner, its state codec and the evaluation are the same for every method.
 */
public interface SslMethod {

    /** The method's name, as written in configuration. */
    String name();

    /** The network whose trainable parameters the optimizer updates; its encoder is what gets evaluated and exported. */
    SiameseNetwork online();

    /**
     * Blocks whose parameters belong to the optimizer's "fixed learning rate" group (SimSiam's predictor with
     * the fix-lr option), or none.
     */
    default Block fixedLrBlock() {
        return null;
    }

    /**
     * Runs both views through the networks in training mode, inside the caller's gradient collector.
     *
     * @return the scalar loss, and for view 1 the projection z and the online output that the loss compares
     *     (SimSiam, BYOL: the prediction p; methods without a predictor: z again)
     */
    Output forward(ParameterStore store, NDArray view1, NDArray view2);

    /** The loss of one step and view 1's projection and online output, for the collapse indicators. */
    record Output(NDArray loss, NDArray projection, NDArray output) {}
}
