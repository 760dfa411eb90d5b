package io.siamstream.ml;

import io.siamstream.connectors.replay.DatasetFormat;
import io.siamstream.job.JobSettings;
import io.siamstream.job.SiamstreamOptions;
import io.siamstream.method.MethodConfig;
import io.siamstream.model.EncoderConfig;
import io.siamstream.model.EncoderKind;
import io.siamstream.train.DeviceSelection;
import io.siamstream.train.ScheduleKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.description.BlockElement;
import org.apache.flink.configuration.description.TextElement;
import org.apache.flink.ml.param.DoubleParam;
import org.apache.flink.ml.param.FloatArrayParam;
import org.apache.flink.ml.param.IntParam;
import org.apache.flink.ml.param.LongParam;
import org.apache.flink.ml.param.Param;
import org.apache.flink.ml.param.ParamValidators;
import org.apache.flink.ml.param.StringParam;
import org.apache.flink.ml.param.WithParams;

/**
 * The training options as Flink ML parameters. Each parameter is a {@code siamstream.*} ConfigOption of
 * {@link SiamstreamOptions} under the option's own key, with its default and description; Flink ML's
 * {@link ParamValidators} check single values when they are set (failing with the parameter's name and the allowed
 * values), and {@link JobSettings#from} checks the whole set as it does for the job, so the rules live in one place.
 * Options not listed here (evaluation, source, sinks, export, pair timeout, pending memory) keep their defaults:
 * fit() trains on the table it is given, and evaluates and exports nothing itself.
 */
public interface SiamstreamParams<T> extends WithParams<T> {

    Param<String> FORMAT = Options.param(SiamstreamOptions.FORMAT, String.class,
            Options.oneOf(Arrays.stream(DatasetFormat.values()).map(DatasetFormat::key).toArray(String[]::new)));
    Param<String> DATA = Options.param(SiamstreamOptions.DATA, String.class,
            new Allowed<>(v -> !v.isBlank(), "'bundled' or a directory", false));
    Param<Integer> CHANNELS = Options.param(SiamstreamOptions.CHANNELS, Integer.class,
            new Allowed<>(ParamValidators.inArray(1, 3), "1, 3 or unset", true));
    Param<Integer> IMAGE_SIZE = Options.param(SiamstreamOptions.IMAGE_SIZE, Integer.class,
            new Allowed<>(ParamValidators.inRange(8, 1024), "8 to 1024, or unset", true));
    Param<Float[]> MEAN = Options.floats(SiamstreamOptions.MEAN);
    Param<Float[]> STD = Options.floats(SiamstreamOptions.STD);
    Param<Long> SEED = Options.param(SiamstreamOptions.SEED, Long.class,
            new Allowed<>(ParamValidators.notNull(), "any long", false));
    Param<String> ENCODER = Options.param(SiamstreamOptions.ENCODER, String.class,
            Options.oneOf(Arrays.stream(EncoderKind.values()).map(k -> k.name().toLowerCase(Locale.ROOT))
                    .toArray(String[]::new)));
    Param<Integer> POOL_GRID = Options.param(SiamstreamOptions.POOL_GRID, Integer.class,
            new Allowed<>(ParamValidators.inRange(1, EncoderConfig.MAX_POOL_GRID), "1 to " + EncoderConfig.MAX_POOL_GRID,
                    false));
    Param<String> METHOD = Options.param(SiamstreamOptions.METHOD, String.class,
            Options.oneOf(MethodConfig.ALLOWED.split(", ")));
    Param<Double> BYOL_BASE_TAU = Options.param(SiamstreamOptions.BYOL_BASE_TAU, Double.class,
            new Allowed<>(ParamValidators.inRange(0, 1), "0 <= tau <= 1", false));
    Param<Double> SIMCLR_TEMPERATURE = Options.param(SiamstreamOptions.SIMCLR_TEMPERATURE, Double.class,
            Options.positive());
    Param<Double> MOCO_MOMENTUM = Options.param(SiamstreamOptions.MOCO_MOMENTUM, Double.class,
            new Allowed<>(ParamValidators.inRange(0, 1), "0 <= m <= 1", false));
    Param<Integer> MOCO_QUEUE_SIZE = Options.param(SiamstreamOptions.MOCO_QUEUE_SIZE, Integer.class,
            Options.positive());
    Param<Double> MOCO_TEMPERATURE = Options.param(SiamstreamOptions.MOCO_TEMPERATURE, Double.class,
            Options.positive());
    Param<String> OPTIMIZER = Options.param(SiamstreamOptions.OPTIMIZER, String.class,
            Options.oneOf("auto", "sgd", "lars"));
    Param<Double> WEIGHT_DECAY = Options.param(SiamstreamOptions.WEIGHT_DECAY, Double.class,
            new Allowed<>(ParamValidators.gtEq(0), ">= 0, or unset (the optimizer's default)", true));
    Param<Double> LARS_ETA = Options.param(SiamstreamOptions.LARS_ETA, Double.class,
            new Allowed<>(ParamValidators.inRange(0, 1, false, false), "0 < eta < 1", false));
    Param<Integer> BATCH_SIZE = Options.param(SiamstreamOptions.BATCH_SIZE, Integer.class, Options.positive());
    Param<Double> BASE_LR = Options.param(SiamstreamOptions.BASE_LR, Double.class, Options.positive());
    Param<String> SCHEDULE = Options.param(SiamstreamOptions.SCHEDULE, String.class,
            new Allowed<>(ParamValidators.inArray((Object[]) ScheduleKind.ALLOWED.split(", "))::validate,
                    ScheduleKind.ALLOWED + ", or unset", true));
    Param<Long> SCHEDULE_STEPS = Options.param(SiamstreamOptions.SCHEDULE_STEPS, Long.class,
            new Allowed<>(ParamValidators.gt(0), "> 0, or unset", true));
    Param<Long> WARMUP_STEPS = Options.param(SiamstreamOptions.WARMUP_STEPS, Long.class,
            new Allowed<>(ParamValidators.gtEq(0), ">= 0, or unset", true));
    Param<Long> RESTART_PERIOD = Options.param(SiamstreamOptions.RESTART_PERIOD, Long.class, Options.positive());
    Param<Double> RESTART_MULTIPLIER = Options.param(SiamstreamOptions.RESTART_MULTIPLIER, Double.class,
            new Allowed<>(ParamValidators.gtEq(1), ">= 1", false));
    Param<String> DEVICE = Options.param(SiamstreamOptions.DEVICE, String.class,
            new Allowed<>(Options::isDevice, "auto, cpu, gpu, gpu:N", false));
    Param<String> BATCHING = Options.param(SiamstreamOptions.BATCHING, String.class,
            Options.oneOf("sequence", "arrival"));
    Param<Integer> PUBLISH_EVERY = Options.param(SiamstreamOptions.PUBLISH_EVERY, Integer.class, Options.positive());
    Param<Integer> VIEW1_PARALLELISM = Options.param(SiamstreamOptions.VIEW1_PARALLELISM, Integer.class,
            Options.positive());
    Param<Integer> VIEW2_PARALLELISM = Options.param(SiamstreamOptions.VIEW2_PARALLELISM, Integer.class,
            Options.positive());

    /** The option of each parameter above, in their order; read-only. Declared after them: it is filled as they are made. */
    Map<Param<?>, ConfigOption<?>> OPTIONS = Options.all();

    /** A bad value fails naming the parameter (the option's key) and what it allows. */
    @Override
    default <V> T set(Param<V> param, V value) {
        if (param.validator instanceof Allowed<V> allowed && !allowed.validate(value)) {
            String shown = value instanceof Object[] array ? Arrays.toString(array) : "'" + value + "'";
            throw new IllegalArgumentException(param.name + ": " + shown + " is not allowed; allowed: "
                    + allowed.allowed());
        }
        return WithParams.super.set(param, value);
    }

    /** The set parameters as {@code siamstream.*} options; unset ones are left out, so the option's default rules. */
    default Configuration toConfiguration() {
        Map<String, String> values = new LinkedHashMap<>();
        OPTIONS.forEach((param, option) -> {
            Object value = get(param);
            if (value != null) {
                values.put(option.key(), value instanceof Float[] floats
                        ? Arrays.stream(floats).map(String::valueOf).collect(Collectors.joining(";"))
                        : String.valueOf(value));
            }
        });
        return Configuration.fromMap(values);
    }

    /** The validated settings of the training dataflow, as the job reads them from its options. */
    default JobSettings settings() {
        return JobSettings.from(toConfiguration());
    }

    /** How parameters are made from options. */
    final class Options {
        private static final Map<Param<?>, ConfigOption<?>> BY_PARAM = new LinkedHashMap<>();

        private Options() {}

        static <V> Param<V> param(ConfigOption<V> option, Class<V> type, Allowed<V> validator) {
            V fallback = option.hasDefaultValue() ? option.defaultValue() : null;
            Param<V> param = typed(option.key(), type, text(option), fallback, validator);
            BY_PARAM.put(param, option);
            return param;
        }

        /** Flink ML's parameter class of the type: its JSON decoding gives back the type (a long stays a Long). */
        @SuppressWarnings("unchecked")
        private static <V> Param<V> typed(String name, Class<V> type, String description, V fallback,
                                          Allowed<V> validator) {
            Object p;
            if (type == Integer.class) {
                p = new IntParam(name, description, (Integer) fallback, (Allowed<Integer>) validator);
            } else if (type == Long.class) {
                p = new LongParam(name, description, (Long) fallback, (Allowed<Long>) validator);
            } else if (type == Double.class) {
                p = new DoubleParam(name, description, (Double) fallback, (Allowed<Double>) validator);
            } else if (type == String.class) {
                p = new StringParam(name, description, (String) fallback, (Allowed<String>) validator);
            } else {
                throw new IllegalArgumentException(name + ": no Flink ML parameter class for " + type);
            }
            return (Param<V>) p;
        }

        static Param<Float[]> floats(ConfigOption<List<Float>> option) {
            Param<Float[]> param = new FloatArrayParam(option.key(), text(option), null,
                    new Allowed<>(ParamValidators.nonEmptyArray(), "one value per channel, or unset", true));
            BY_PARAM.put(param, option);
            return param;
        }

        static Allowed<String> oneOf(String... values) {
            return new Allowed<>(ParamValidators.inArray(values), String.join(", ", values), false);
        }

        static <V> Allowed<V> positive() {
            return new Allowed<>(ParamValidators.gt(0), "> 0", false);
        }

        static boolean isDevice(String value) {
            try {
                DeviceSelection.validate(value);
                return true;
            } catch (IllegalArgumentException e) {
                return false;
            }
        }

        /** The option's description as plain text. */
        static String text(ConfigOption<?> option) {
            List<String> parts = new ArrayList<>();
            for (BlockElement block : option.description().getBlocks()) {
                if (block instanceof TextElement text) {
                    parts.add(text.getFormat());
                }
            }
            return String.join(" ", parts);
        }

        /** The mapping, read-only. */
        static Map<Param<?>, ConfigOption<?>> all() {
            return Collections.unmodifiableMap(BY_PARAM);
        }
    }
}
