package io.siamstream.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;

/** The few layer constructors the encoders and heads are made of, with PyTorch's defaults. */
public final class Layers {

    /**
     * PyTorch's momentum=0.1, written as DJL's BatchNorm computed it from its inverted momentum 0.9f (1f - 0.9f in
     * float, then widened), so running statistics stay bit for bit what they were with DJL's block.
     */
    private static final double BN_MOMENTUM = 1f - 0.9f;
    /** 1e-5 as DJL's BatchNorm passed it: a float widened to double. */
    private static final double BN_EPSILON = 1e-5f;

    private Layers() {}

    public static Block conv(int filters, int kernel, int stride, int padding) {
        return Conv2d.builder()
                .setFilters(filters)
                .setKernelShape(new Shape(kernel, kernel))
                .optStride(new Shape(stride, stride))
                .optPadding(new Shape(padding, padding))
                .optBias(false)
                .build();
    }

    /** Batch normalisation over axis 1 (channels of NCHW, features of NC), libtorch's op without views. */
    public static Block batchNorm(boolean affine) {
        return new NativeBatchNorm(BN_MOMENTUM, BN_EPSILON, affine);
    }

    public static Block linear(int units, boolean bias) {
        return Linear.builder().setUnits(units).optBias(bias).build();
    }

    public static Block relu() {
        return Activation.reluBlock();
    }

    /**
     * N x C x H x W to N x (C * grid * grid): the mean of each cell of a grid x grid partition, flattened channel by
     * channel, row by row, as PyTorch's {@code AdaptiveAvgPool2d(grid)} then {@code Flatten()}. Grid 1 is the global
     * average pool.
     */
    public static Block gridAvgPool(int grid) {
        if (grid == 1) {
            return Pool.globalAvgPool2dBlock();
        }
        return new LambdaBlock(input -> new NDList(gridAvgPool(input.singletonOrThrow(), grid)), "gridAvgPool");
    }

    /**
     * The same N x C x H x W array with its channels innermost in memory (PyTorch's channels_last): permuted to NHWC,
     * copied (a reshape of a permuted view copies it into its own order), and permuted back, which is a view. Public
     * so that bench/conv/ConvBench.java measures the convolutions in exactly the layout the backbones run in.
     */
    public static NDArray channelsLast(NDArray x) {
        Shape s = x.getShape();
        return x.transpose(0, 2, 3, 1).reshape(-1).reshape(s.get(0), s.get(2), s.get(3), s.get(1))
                .transpose(0, 3, 1, 2);
    }

    static NDArray gridAvgPool(NDArray x, int grid) {
        Shape shape = x.getShape();
        long h = shape.get(2);
        long w = shape.get(3);
        if (h % grid == 0 && w % grid == 0) {
            // equal cells: one pooling op, the same cells as the adaptive bounds below
            Shape cell = new Shape(h / grid, w / grid);
            return Pool.avgPool2d(x, cell, cell, new Shape(0, 0), false, true).reshape(shape.get(0), -1);
        }
        // PyTorch's adaptive bounds: cell i spans [floor(i * h / grid), ceil((i + 1) * h / grid)), overlapping
        NDList cells = new NDList(grid * grid);
        for (int i = 0; i < grid; i++) {
            for (int j = 0; j < grid; j++) {
                cells.add(x.get(new NDIndex(":, :, {}:{}, {}:{}", i * h / grid, ceilDiv((i + 1) * h, grid),
                        j * w / grid, ceilDiv((j + 1) * w, grid))).reshape(shape.get(0), shape.get(1), -1)
                        .mean(new int[] {2}));
            }
        }
        return NDArrays.stack(cells, 2).reshape(shape.get(0), -1);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
