package io.siamstream.connectors.replay;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The dataset formats a replay source reads, by their configuration names. */
public enum DatasetFormat {
    /** Fashion-MNIST (or MNIST) IDX files, 1 x 28 x 28. */
    FASHION_MNIST("fashion-mnist"),
    /** CIFAR-10 binary batches, 3 x 32 x 32. */
    CIFAR10("cifar10"),
    /** A folder of PNG/JPEG files, labels from sub-folder names, of a configured shape. */
    IMAGE_FOLDER("image-folder");

    private final String key;

    DatasetFormat(String key) {
        this.key = key;
    }

    /** The configuration name. */
    public String key() {
        return key;
    }

    /** The format named {@code value} (case-insensitive); otherwise fails naming {@code option} and the allowed values. */
    public static DatasetFormat parse(String option, String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        for (DatasetFormat f : values()) {
            if (f.key.equals(v)) {
                return f;
            }
        }
        throw new IllegalArgumentException(option + ": '" + value + "' is not allowed; allowed values: " + allowed());
    }

    public static String allowed() {
        return Arrays.stream(values()).map(DatasetFormat::key).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return key;
    }
}
