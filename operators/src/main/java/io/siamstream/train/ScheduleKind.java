package io.siamstream.train;

import java.util.Locale;

/**
 * The shape of the learning-rate schedule after warm-up (see {@link LrSchedule}): a half cosine over a known run
 * length (bounded input), a constant rate, or cosine with warm restarts (SGDR; Loshchilov and Hutter 2017). The
 * last two never reach 0, which an endless stream needs.
 */
public enum ScheduleKind {
    COSINE("cosine"),
    CONSTANT("constant"),
    COSINE_RESTARTS("cosine-restarts");

    /** The values a configuration may name. */
    public static final String ALLOWED = "cosine, constant, cosine-restarts";

    private final String option;

    ScheduleKind(String option) {
        this.option = option;
    }

    /** The kind named {@code value}; anything else fails naming {@code optionKey} and the allowed values. */
    public static ScheduleKind parse(String optionKey, String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        for (ScheduleKind kind : values()) {
            if (kind.option.equals(v)) {
                return kind;
            }
        }
        throw new IllegalArgumentException(optionKey + ": '" + value + "' is not allowed; allowed values: " + ALLOWED);
    }

    @Override
    public String toString() {
        return option;
    }
}
