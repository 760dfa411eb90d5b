package io.siamstream.model;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;

/** The few layer constructors the encoders and heads are made of, with PyTorch's defaults. */
public final class Layers {

    /** DJL's BatchNorm momentum is PyTorch's inverted: 0.9 here is PyTorch's momentum=0.1. */
    private static final float BN_MOMENTUM = 0.9f;
    private static final float BN_EPSILON = 1e-5f;

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

    /** Batch normalisation over axis 1 (channels of NCHW, features of NC). */
    public static Block batchNorm(boolean affine) {
        return BatchNorm.builder()
                .optMomentum(BN_MOMENTUM)
                .optEpsilon(BN_EPSILON)
                .optCenter(affine)
                .optScale(affine)
                .build();
    }

    public static Block linear(int units, boolean bias) {
        return Linear.builder().setUnits(units).optBias(bias).build();
    }

    public static Block relu() {
        return Activation.reluBlock();
    }
}
