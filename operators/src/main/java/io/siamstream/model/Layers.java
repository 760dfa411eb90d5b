package io.siamstream.model;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;

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
}
