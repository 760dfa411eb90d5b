package io.siamstream.model;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.pooling.Pool;

/**
 * Builds the backbones of {@link EncoderKind}; each maps N x C x H x W images to N x featureDim features. Every
 * backbone runs channels last ({@link NamedSequential#channelsLastInput}), because libtorch's oneDNN convolutions,
 * which are most of a training step, are faster on that layout than on contiguous NCHW for these networks (see
 * bench/results/step-benchmark-pairs.md). The parameters stay contiguous NCHW, so the checkpoint codec and the exported
 * model do not change.
 */
public final class Encoders {

    private Encoders() {}

    public static Encoder create(EncoderConfig config) {
        return switch (config.kind()) {
            case CONVNET -> convNet(config);
            case RESNET18_CIFAR -> resNet18Cifar(config);
            case RESNET50 -> resNet50(config);
        };
    }

    private static Encoder convNet(EncoderConfig config) {
        int[] widths = {32, 64, 128, 256};
        int[] strides = {1, 2, 2, 2};
        NamedSequential net = new NamedSequential().channelsLastInput(true);
        for (int i = 0; i < widths.length; i++) {
            net.add("conv" + (i + 1), Layers.conv(config.scaled(widths[i]), 3, strides[i], 1))
                    .add("bn" + (i + 1), Layers.batchNorm(true))
                    .add("relu" + (i + 1), Layers.relu());
        }
        net.add("pool", Layers.gridAvgPool(config.poolGrid()));
        return new Encoder(net, config.scaled(widths[widths.length - 1]) * cells(config));
    }

    private static int cells(EncoderConfig config) {
        return config.poolGrid() * config.poolGrid();
    }

    private static Encoder resNet18Cifar(EncoderConfig config) {
        int base = config.scaled(64);
        NamedSequential net = new NamedSequential().channelsLastInput(true)
                .add("stemConv", Layers.conv(base, 3, 1, 1))
                .add("stemBn", Layers.batchNorm(true))
                .add("stemRelu", Layers.relu());
        int in = base;
        int[] blocks = {2, 2, 2, 2};
        for (int stage = 0; stage < 4; stage++) {
            int channels = config.scaled(64 << stage);
            NamedSequential layer = new NamedSequential();
            for (int b = 0; b < blocks[stage]; b++) {
                int stride = (stage > 0 && b == 0) ? 2 : 1;
                layer.add("block" + b, ResidualBlock.basic(in, channels, stride));
                in = channels;
            }
            net.add("layer" + (stage + 1), layer);
        }
        net.add("pool", Layers.gridAvgPool(config.poolGrid()));
        return new Encoder(net, in * cells(config));
    }

    private static Encoder resNet50(EncoderConfig config) {
        int base = config.scaled(64);
        NamedSequential net = new NamedSequential().channelsLastInput(true)
                .add("stemConv", Layers.conv(base, 7, 2, 3))
                .add("stemBn", Layers.batchNorm(true))
                .add("stemRelu", Layers.relu())
                .add("stemPool", Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1)));
        int in = base;
        int[] blocks = {3, 4, 6, 3};
        for (int stage = 0; stage < 4; stage++) {
            int channels = config.scaled(64 << stage);
            NamedSequential layer = new NamedSequential();
            for (int b = 0; b < blocks[stage]; b++) {
                int stride = (stage > 0 && b == 0) ? 2 : 1;
                layer.add("block" + b, ResidualBlock.bottleneck(in, channels, stride));
                in = channels * 4;
            }
            net.add("layer" + (stage + 1), layer);
        }
        net.add("pool", Layers.gridAvgPool(config.poolGrid()));
        return new Encoder(net, in * cells(config));
    }

}
