package io.siamstream.model;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A sequence of blocks whose children carry readable names, so parameter keys read like
 * {@code 01encoder_02layer1_01block0_01conv1_weight} and stay stable between versions: the learner state codec
 * stores tensors under these keys.
 */
public final class NamedSequential extends AbstractBlock {

    private static final byte VERSION = 1;

    private boolean channelsLastInput;

    public NamedSequential() {
        super(VERSION);
    }

    /**
     * Makes this sequence lay its N x C x H x W input out channels last (NHWC in memory, still NCHW to every op)
     * before the first child. libtorch's oneDNN convolutions then run their channels-last kernels, and every
     * convolution, batch norm, ReLU and add after them keeps that layout, so the whole backbone runs in it. It is
     * not a child, so parameter keys stay as they are.
     */
    public NamedSequential channelsLastInput(boolean channelsLast) {
        this.channelsLastInput = channelsLast;
        return this;
    }

    /** Appends a named child and returns this sequence. */
    public NamedSequential add(String name, Block block) {
        addChildBlock(name, block);
        return this;
    }

    /** The child with the given (unnumbered) name. */
    public Block child(String name) {
        for (var pair : getChildren()) {
            if (pair.getKey().substring(2).equals(name)) {
                return pair.getValue();
            }
        }
        throw new IllegalArgumentException("no child block named " + name);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList current = channelsLastInput ? new NDList(Layers.channelsLast(inputs.singletonOrThrow())) : inputs;
        for (Block child : getChildren().values()) {
            current = child.forward(parameterStore, current, training, params);
        }
        return current;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape[] current = inputShapes;
        for (Block child : getChildren().values()) {
            current = child.getOutputShapes(current);
        }
        return current;
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape[] shapes = inputShapes;
        for (Block child : getChildren().values()) {
            child.initialize(manager, dataType, shapes);
            shapes = child.getOutputShapes(shapes);
        }
    }
}
