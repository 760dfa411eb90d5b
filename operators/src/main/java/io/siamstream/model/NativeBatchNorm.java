package io.siamstream.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Batch normalisation over axis 1 (channels of NCHW, features of NC) that calls libtorch's batch_norm on the input as
 * it is. DJL's own BatchNorm, for any axis but -1, wraps the op in two swapAxes views; the output is then a view,
 * autograd records two extra transpose nodes, and an in-place op on the output (a residual add) turns into
 * CopySlices/AsStrided nodes with copies in backward. torch.nn.BatchNorm2d does none of that, and neither does this.
 *
 * <p>Same parameters, names, order and types as DJL's BatchNorm (gamma, beta, runningMean, runningVar), so parameter
 * keys, the learner state codec and the PyTorch name mapping do not change. Without affine parameters gamma and beta
 * still exist, untrained (ones and zeros), and are passed to the op, as DJL's BatchNorm does.
 */
public final class NativeBatchNorm extends AbstractBlock {

    private static final byte VERSION = 1;

    /** PyTorch's momentum (weight of the new batch statistic), not DJL's inverted one. */
    private final double momentum;
    private final double epsilon;
    private final Parameter gamma;
    private final Parameter beta;
    private final Parameter runningMean;
    private final Parameter runningVar;
    private long channels;

    public NativeBatchNorm(double momentum, double epsilon, boolean affine) {
        super(VERSION);
        this.momentum = momentum;
        this.epsilon = epsilon;
        this.gamma = addParameter(Parameter.builder()
                .setName("gamma").setType(Parameter.Type.GAMMA).optRequiresGrad(affine).build());
        this.beta = addParameter(Parameter.builder()
                .setName("beta").setType(Parameter.Type.BETA).optRequiresGrad(affine).build());
        this.runningMean = addParameter(Parameter.builder()
                .setName("runningMean").setType(Parameter.Type.RUNNING_MEAN).optRequiresGrad(false).build());
        this.runningVar = addParameter(Parameter.builder()
                .setName("runningVar").setType(Parameter.Type.RUNNING_VAR).optRequiresGrad(false).build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        var device = x.getDevice();
        // In training the op updates the running statistics in place, as torch.nn.BatchNorm does.
        return new NDList(JniUtils.batchNorm(
                (PtNDArray) x,
                (PtNDArray) parameterStore.getValue(runningMean, device, training),
                (PtNDArray) parameterStore.getValue(runningVar, device, training),
                (PtNDArray) parameterStore.getValue(gamma, device, training),
                (PtNDArray) parameterStore.getValue(beta, device, training),
                training, momentum, epsilon));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void beforeInitialize(Shape... inputShapes) {
        super.beforeInitialize(inputShapes);
        channels = inputShapes[0].get(1);
    }

    @Override
    public void prepare(Shape[] inputShapes) {
        Shape shape = new Shape(channels);
        gamma.setShape(shape);
        beta.setShape(shape);
        runningMean.setShape(shape);
        runningVar.setShape(shape);
    }
}
