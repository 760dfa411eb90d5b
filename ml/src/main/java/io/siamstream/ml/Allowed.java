package io.siamstream.ml;

import org.apache.flink.ml.param.ParamValidator;

/**
 * A Flink ML validator with the words for what it allows: {@link SiamstreamParams#set} names the parameter and the
 * allowed values when a value fails, as the job does for a bad option (Flink ML's own message names neither).
 * {@code nullable}: unset (null) means "the option's own default rule", as an unset ConfigOption does.
 */
public record Allowed<T>(ParamValidator<T> check, String allowed, boolean nullable) implements ParamValidator<T> {

    private static final long serialVersionUID = 1L;

    @Override
    public boolean validate(T value) {
        return value == null ? nullable : check.validate(value);
    }
}
