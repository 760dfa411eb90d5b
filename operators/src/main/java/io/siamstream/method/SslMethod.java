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
     * @return the scalar loss to minimise and the projections z of view 1 (for the collapse indicator)
     */
    Output forward(ParameterStore store, NDArray view1, NDArray view2);

    /** The loss and the projections of one step. */
    record Output(NDArray loss, NDArray projection) {}
}
