package io.siamstream.job;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.TimeUtils;

/**
 * Flink's checkpointing, state backend and restart options for a long fault-tolerant run of the job on a cluster:
 * every option the user (or the cluster's configuration) has not set gets the default below, and every value is
 * checked at start, failing with a message that names the option and its allowed values.
 *
 * <table>
 * <tr><th>option</th><th>default here</th><th>why</th></tr>
 * <tr><td>state.backend.type</td><td>rocksdb</td><td>the learner (ResNet-18: 182 MB with its momentum) stays off
 *     the JVM heap and is checkpointed incrementally</td></tr>
 * <tr><td>execution.checkpointing.incremental</td><td>true</td><td>only the SST files written since the last
 *     checkpoint are uploaded</td></tr>
 * <tr><td>execution.checkpointing.interval</td><td>1 min</td><td>at most a minute of training is redone after a
 *     failure, while the model write (about 1 s of training time per checkpoint for ResNet-18 on 2 CPU cores, see
 *     bench/results/job-checkpoint-resnet18.md) costs a few percent at most</td></tr>
 * <tr><td>execution.checkpointing.min-pause</td><td>10 s</td><td>slow checkpoints never run back to back</td></tr>
 * <tr><td>execution.checkpointing.externalized-checkpoint-retention</td><td>RETAIN_ON_CANCELLATION</td><td>a
 *     cancelled job can be resumed from its last checkpoint</td></tr>
 * <tr><td>execution.checkpointing.unaligned.enabled</td><td>true</td><td>the trainer is the bottleneck, so the
 *     job is always backpressured and aligned barriers queue behind full network buffers; unaligned barriers
 *     overtake them (the in-flight pairs go into the checkpoint; training results do not change)</td></tr>
 * <tr><td>execution.checkpointing.aligned-checkpoint-timeout</td><td>2 s</td><td>a checkpoint starts aligned and
 *     turns unaligned where its barriers have not aligned within 2 s: a trainer that keeps up with its pairs (a
 *     small model) gets aligned checkpoints, which slowed its training less than unaligned ones
 *     (bench/results/job-benchmark.md); a slow one (ResNet-18 on a CPU) still gets unaligned ones, which then
 *     complete 2 s later, and with them what the exactly-once sinks commit (set 0 to have them start unaligned);
 *     not set where unaligned checkpoints are off</td></tr>
 * <tr><td>execution.checkpointing.dir</td><td>{@code <siamstream.output>/checkpoints}</td><td>without a directory
 *     Flink keeps checkpoints in the JobManager's memory, far too small for a model; set durable storage (s3://,
 *     hdfs://) on a real cluster</td></tr>
 * <tr><td>restart-strategy.type</td><td>exponential-delay (10 s doubling to 5 min, unlimited attempts, reset after
 *     an hour without failure)</td><td>a long run survives transient failures without hammering a broken
 *     dependency</td></tr>
 * <tr><td>restart-strategy.fixed-delay.attempts / .delay</td><td>10 / 30 s, when fixed-delay is chosen</td><td>Flink's
 *     own default of 1 attempt ends a long run at the second failure</td></tr>
 * </table>
 */
public final class FaultTolerance {

    private FaultTolerance() {}

    public static final Duration DEFAULT_INTERVAL = Duration.ofMinutes(1);
    public static final Duration DEFAULT_MIN_PAUSE = Duration.ofSeconds(10);
    public static final Duration DEFAULT_ALIGNED_CHECKPOINT_TIMEOUT = Duration.ofSeconds(2);

    private static final List<String> STATE_BACKENDS = List.of("rocksdb", "hashmap");
    private static final List<String> RETENTIONS =
            List.of("RETAIN_ON_CANCELLATION", "DELETE_ON_CANCELLATION", "NO_EXTERNALIZED_CHECKPOINTS");
    private static final List<String> RESTART_STRATEGIES = List.of("exponential-delay", "exponentialdelay",
            "fixed-delay", "fixeddelay", "failure-rate", "failurerate", "none", "off", "disable");

    /**
     * Checks the values the user gave (before an environment is made from them: Flink's own parsing would fail
     * first with a message that does not list the allowed values).
     *
     * @throws IllegalArgumentException naming the first bad option and its allowed values
     */
    public static void validate(ReadableConfig conf) {
        Map<String, String> values = conf.toMap();
        String backend = raw(values, StateBackendOptions.STATE_BACKEND);
        if (backend != null && !STATE_BACKENDS.contains(backend.trim().toLowerCase(Locale.ROOT)) && !backend.contains(".")) {
            throw bad(StateBackendOptions.STATE_BACKEND, backend, "rocksdb, hashmap (or a StateBackendFactory class name)");
        }
        bool(values, CheckpointingOptions.INCREMENTAL_CHECKPOINTS);
        bool(values, CheckpointingOptions.ENABLE_UNALIGNED);
        duration(values, CheckpointingOptions.ALIGNED_CHECKPOINT_TIMEOUT,
                "a duration >= 0, e.g. 2 s (0: checkpoints start unaligned)");
        Duration interval = duration(values, CheckpointingOptions.CHECKPOINTING_INTERVAL, "a duration of at least 10 ms, e.g. 60 s");
        if (interval != null && interval.toMillis() < 10) {
            throw bad(CheckpointingOptions.CHECKPOINTING_INTERVAL, raw(values, CheckpointingOptions.CHECKPOINTING_INTERVAL),
                    "a duration of at least 10 ms, e.g. 60 s (checkpoints cannot be switched off for this job)");
        }
        duration(values, CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS, "a duration >= 0, e.g. 10 s");
        String retention = raw(values, CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION);
        if (retention != null && !RETENTIONS.contains(retention.trim().toUpperCase(Locale.ROOT))) {
            throw bad(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION, retention, String.join(", ", RETENTIONS));
        }
        String restart = raw(values, RestartStrategyOptions.RESTART_STRATEGY);
        if (restart != null && !RESTART_STRATEGIES.contains(restart.trim().toLowerCase(Locale.ROOT))) {
            throw bad(RestartStrategyOptions.RESTART_STRATEGY, restart,
                    "exponential-delay, fixed-delay, failure-rate, none");
        }
        String attempts = raw(values, RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS);
        if (attempts != null) {
            int n;
            try {
                n = Integer.parseInt(attempts.trim());
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 1) {
                throw bad(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, attempts, "an integer >= 1");
            }
        }
        duration(values, RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, "a duration, e.g. 30 s");
        duration(values, RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF, "a duration, e.g. 10 s");
        duration(values, RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF, "a duration, e.g. 5 min");
    }

    /**
     * Validates the environment's configuration (the cluster's settings and the user's) and sets every option of
     * the table above that is not set there.
     *
     * @param output the job's output folder ({@code siamstream.output}); checkpoints default to its
     *               {@code checkpoints/} folder
     * @return the defaults that were applied (option key to value), for the start-up log
     */
    public static Map<String, String> apply(StreamExecutionEnvironment env, String output) {
        ReadableConfig current = env.getConfiguration();
        validate(current);
        Map<String, String> values = current.toMap();
        Configuration defaults = new Configuration();
        if (raw(values, StateBackendOptions.STATE_BACKEND) == null) {
            defaults.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        }
        if (raw(values, CheckpointingOptions.INCREMENTAL_CHECKPOINTS) == null) {
            defaults.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        }
        if (raw(values, CheckpointingOptions.CHECKPOINTING_INTERVAL) == null) {
            defaults.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, DEFAULT_INTERVAL);
        }
        if (raw(values, CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS) == null) {
            defaults.set(CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS, DEFAULT_MIN_PAUSE);
        }
        if (raw(values, CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION) == null) {
            defaults.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                    org.apache.flink.configuration.ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        }
        String unaligned = raw(values, CheckpointingOptions.ENABLE_UNALIGNED);
        if (unaligned == null) {
            defaults.set(CheckpointingOptions.ENABLE_UNALIGNED, true);
        }
        if (raw(values, CheckpointingOptions.ALIGNED_CHECKPOINT_TIMEOUT) == null
                && (unaligned == null || Boolean.parseBoolean(unaligned.trim()))) {
            defaults.set(CheckpointingOptions.ALIGNED_CHECKPOINT_TIMEOUT, DEFAULT_ALIGNED_CHECKPOINT_TIMEOUT);
        }
        if (raw(values, CheckpointingOptions.CHECKPOINTS_DIRECTORY) == null) {
            defaults.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpointDirectory(output));
        }
        String restart = raw(values, RestartStrategyOptions.RESTART_STRATEGY);
        if (restart == null) {
            defaults.set(RestartStrategyOptions.RESTART_STRATEGY, "exponential-delay");
            restart = "exponential-delay";
        }
        restart = restart.trim().toLowerCase(Locale.ROOT);
        if (restart.startsWith("exponential")) {
            setIfAbsent(values, defaults, RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF,
                    Duration.ofSeconds(10));
            setIfAbsent(values, defaults, RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF,
                    Duration.ofMinutes(5));
            setIfAbsent(values, defaults, RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_BACKOFF_MULTIPLIER, 2.0);
        } else if (restart.startsWith("fixed")) {
            setIfAbsent(values, defaults, RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 10);
            setIfAbsent(values, defaults, RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(30));
        }
        env.configure(defaults);
        return new LinkedHashMap<>(defaults.toMap());
    }

    /** {@code <output>/checkpoints} as a URI: a local path is made absolute, a URI (s3://, hdfs://, file:) is kept. */
    static String checkpointDirectory(String output) {
        if (output.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*") && !output.matches("^[a-zA-Z]:\\\\.*")) {
            return output.endsWith("/") ? output + "checkpoints" : output + "/checkpoints";
        }
        return Path.of(output, "checkpoints").toAbsolutePath().normalize().toUri().toString();
    }

    private static <T> void setIfAbsent(Map<String, String> values, Configuration defaults, ConfigOption<T> option, T value) {
        if (raw(values, option) == null) {
            defaults.set(option, value);
        }
    }

    /** The value under the option's key or one of its fallback (older) keys, as text; null when unset. */
    private static String raw(Map<String, String> values, ConfigOption<?> option) {
        String v = values.get(option.key());
        if (v != null) {
            return v;
        }
        for (var fallback : option.fallbackKeys()) {
            v = values.get(fallback.getKey());
            if (v != null) {
                return v;
            }
        }
        return null;
    }

    private static void bool(Map<String, String> values, ConfigOption<Boolean> option) {
        String v = raw(values, option);
        if (v != null && !v.trim().equalsIgnoreCase("true") && !v.trim().equalsIgnoreCase("false")) {
            throw bad(option, v, "true, false");
        }
    }

    private static Duration duration(Map<String, String> values, ConfigOption<Duration> option, String allowed) {
        String v = raw(values, option);
        if (v == null) {
            return null;
        }
        try {
            Duration d = TimeUtils.parseDuration(v.trim());
            if (d.isNegative()) {
                throw bad(option, v, allowed);
            }
            return d;
        } catch (IllegalArgumentException | NullPointerException e) {
            throw bad(option, v, allowed);
        }
    }

    private static IllegalArgumentException bad(ConfigOption<?> option, String value, String allowed) {
        return new IllegalArgumentException(option.key() + ": '" + value + "' is not allowed; allowed values: " + allowed);
    }
}
