package io.siamstream.record;

import java.util.Locale;

/** Numbers in the records' JSON: JSON has no NaN or infinity, so those are written as {@code null}. */
public final class JsonNumber {

    private JsonNumber() {}

    /** {@code v} with {@code format} (a {@link String#format} pattern for one double), or {@code null}. */
    public static String of(double v, String format) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, format, v) : "null";
    }
}
