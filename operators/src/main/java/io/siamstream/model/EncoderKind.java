package io.siamstream.model;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The backbones the learner can train. Each ends in a global average pool, or in the means of a grid of cells
 * ({@link EncoderConfig#poolGrid}).
 */
public enum EncoderKind {
    /** Four 3x3 conv-BN-ReLU layers (32, 64, 128, 256 channels x width), global average pool: the fast test model. */
    CONVNET,
    /** ResNet-18 for CIFAR-size input: 3x3 stem, no max-pool, [2, 2, 2, 2] basic blocks, 512 x width features. */
    RESNET18_CIFAR,
    /** ResNet-50 for ImageNet-size input: 7x7 stride-2 stem, max-pool, [3, 4, 6, 3] bottlenecks, 2048 features. */
    RESNET50;

    /** Parses a configuration value such as {@code resnet18_cifar}, naming the option and the allowed values on error. */
    public static EncoderKind parse(String option, String value) {
        for (EncoderKind kind : values()) {
            if (kind.name().equalsIgnoreCase(value.trim())) {
                return kind;
            }
        }
        throw new IllegalArgumentException(String.format(Locale.ROOT,
                "%s: unknown encoder '%s'; allowed values: %s", option, value,
                Arrays.stream(values()).map(k -> k.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "))));
    }
}
