package io.siamstream.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * relu(residual(x) + shortcut(x)): the basic block of ResNet-18 and the bottleneck block of ResNet-50
 * (torchvision's v1.5 layout: the stride sits on the 3x3 convolution). The last batch norm of the residual
 * branch is named {@value #LAST_BN}, so {@link ParameterInit} can zero its scale (Goyal et al.), which makes every
 * block start as the identity.
 */
public final class ResidualBlock extends AbstractBlock {

    public static final String LAST_BN = "bnLast";
    private static final byte VERSION = 1;

    private final Block residual;
    private final Block shortcut;

    private ResidualBlock(NamedSequential residual, NamedSequential shortcut) {
        super(VERSION);
        this.residual = addChildBlock("residual", residual);
        this.shortcut = shortcut == null ? null : addChildBlock("shortcut", shortcut);
    }

    /** Two 3x3 convolutions; a 1x1 projection shortcut where the shape changes. */
    public static ResidualBlock basic(int inChannels, int channels, int stride) {
        NamedSequential residual = new NamedSequential()
                .add("conv1", Layers.conv(channels, 3, stride, 1))
                .add("bn1", Layers.batchNorm(true))
                .add("relu1", Layers.relu())
                .add("conv2", Layers.conv(channels, 3, 1, 1))
                .add(LAST_BN, Layers.batchNorm(true));
        return new ResidualBlock(residual, projection(inChannels, channels, stride));
    }

    /** 1x1 reduce, 3x3 (strided), 1x1 expand by 4. */
    public static ResidualBlock bottleneck(int inChannels, int channels, int stride) {
        int out = channels * 4;
        NamedSequential residual = new NamedSequential()
                .add("conv1", Layers.conv(channels, 1, 1, 0))
                .add("bn1", Layers.batchNorm(true))
                .add("relu1", Layers.relu())
                .add("conv2", Layers.conv(channels, 3, stride, 1))
                .add("bn2", Layers.batchNorm(true))
                .add("relu2", Layers.relu())
                .add("conv3", Layers.conv(out, 1, 1, 0))
                .add(LAST_BN, Layers.batchNorm(true));
        return new ResidualBlock(residual, projection(inChannels, out, stride));
    }

    private static NamedSequential projection(int inChannels, int out, int stride) {
        if (stride == 1 && inChannels == out) {
            return null;
        }
        return new NamedSequential()
                .add("conv", Layers.conv(out, 1, stride, 0))
                .add("bn", Layers.batchNorm(true));
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        NDArray branch = residual.forward(parameterStore, inputs, training, params).singletonOrThrow();
        NDArray identity = shortcut == null
                ? x
                : shortcut.forward(parameterStore, inputs, training, params).singletonOrThrow();
        // Out of place, as torchvision's block: an in-place add on a view makes autograd rebuild the view's base
        // (CopySlices, AsStrided) in backward, copies that the plain add does not need.
        return new NDList(Activation.relu(branch.add(identity)));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return residual.getOutputShapes(inputShapes);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        residual.initialize(manager, dataType, inputShapes);
        if (shortcut != null) {
            shortcut.initialize(manager, dataType, inputShapes);
        }
    }
}
