package io.siamstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The cluster entry point's checkpointing defaults: they land in the environment, set values win, bad values fail. */
class FaultToleranceTest {

    @Test
    void defaultsLandInTheEnvironmentsConfiguration() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        FaultTolerance.apply(env, "out/run-1");

        var conf = env.getConfiguration();
        assertThat(conf.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("rocksdb");
        assertThat(conf.get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS)).isTrue();
        assertThat(conf.get(CheckpointingOptions.ENABLE_UNALIGNED)).isTrue();
        assertThat(conf.get(CheckpointingOptions.ALIGNED_CHECKPOINT_TIMEOUT)).isEqualTo(Duration.ofSeconds(2));
        assertThat(conf.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
                .isEqualTo(Path.of("out/run-1/checkpoints").toAbsolutePath().toUri().toString());
        assertThat(conf.get(RestartStrategyOptions.RESTART_STRATEGY)).isEqualTo("exponential-delay");
        assertThat(conf.get(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF))
                .isEqualTo(Duration.ofSeconds(10));
        // and the environment acts on them
        assertThat(env.getCheckpointConfig().getCheckpointInterval()).isEqualTo(60_000L);
        assertThat(env.getCheckpointConfig().getMinPauseBetweenCheckpoints()).isEqualTo(10_000L);
        assertThat(env.getCheckpointConfig().isUnalignedCheckpointsEnabled()).isTrue();
        assertThat(env.getCheckpointConfig().getAlignedCheckpointTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(env.getCheckpointConfig().getExternalizedCheckpointRetention())
                .isEqualTo(ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    }

    @Test
    void valuesTheUserSetAreKept() {
        Configuration given = new Configuration();
        given.setString("execution.checkpointing.interval", "5 s");
        given.setString("state.backend.type", "hashmap");
        given.setString("execution.checkpointing.unaligned.enabled", "false");
        given.setString("execution.checkpointing.aligned-checkpoint-timeout", "0 s");
        given.setString("restart-strategy.type", "fixed-delay");
        given.setString("restart-strategy.fixed-delay.attempts", "3");
        given.setString("state.checkpoints.dir", "s3://bucket/siamstream/checkpoints"); // the older key counts too
        FaultTolerance.validate(given);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(given);
        var applied = FaultTolerance.apply(env, "s3://bucket/siamstream");

        assertThat(applied).doesNotContainKeys("execution.checkpointing.interval", "state.backend.type",
                "execution.checkpointing.unaligned.enabled", "execution.checkpointing.aligned-checkpoint-timeout",
                "restart-strategy.type",
                "restart-strategy.fixed-delay.attempts", "execution.checkpointing.dir");
        assertThat(applied).containsEntry("restart-strategy.fixed-delay.delay", "30 s");
        var conf = env.getConfiguration();
        assertThat(env.getCheckpointConfig().getCheckpointInterval()).isEqualTo(5_000L);
        assertThat(conf.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("hashmap");
        assertThat(conf.get(CheckpointingOptions.ENABLE_UNALIGNED)).isFalse();
        assertThat(env.getCheckpointConfig().getAlignedCheckpointTimeout()).isZero();
        assertThat(conf.get(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS)).isEqualTo(3);
        assertThat(conf.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY)).isEqualTo("s3://bucket/siamstream/checkpoints");
    }

    @Test
    void theAlignmentTimeoutIsNotSetWhereUnalignedCheckpointsAreOff() {
        Configuration given = new Configuration();
        given.setString("execution.checkpointing.unaligned.enabled", "false");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(given);
        assertThat(FaultTolerance.apply(env, "out/run-2"))
                .doesNotContainKey("execution.checkpointing.aligned-checkpoint-timeout");
        assertThat(env.getCheckpointConfig().getAlignedCheckpointTimeout()).isZero();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "state.backend.type | memory | rocksdb, hashmap",
        "execution.checkpointing.incremental | yes | true, false",
        "execution.checkpointing.interval | often | a duration of at least 10 ms",
        "execution.checkpointing.interval | 0 | a duration of at least 10 ms",
        "execution.checkpointing.externalized-checkpoint-retention | KEEP | RETAIN_ON_CANCELLATION, DELETE_ON_CANCELLATION, NO_EXTERNALIZED_CHECKPOINTS",
        "execution.checkpointing.unaligned.enabled | 1 | true, false",
        "execution.checkpointing.aligned-checkpoint-timeout | soon | a duration >= 0",
        "restart-strategy.type | forever | exponential-delay, fixed-delay, failure-rate, none",
        "restart-strategy.fixed-delay.attempts | 0 | an integer >= 1",
        "restart-strategy.fixed-delay.delay | soon | a duration",
    })
    void aBadValueFailsNamingTheOptionAndTheAllowedValues(String key, String value, String allowed) {
        Configuration given = new Configuration();
        given.setString(key, value);
        assertThatThrownBy(() -> FaultTolerance.validate(given))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(key + ": '" + value + "' is not allowed; allowed values: ")
                .hasMessageContaining(allowed);
    }

    @Test
    void aCheckpointDirectoryUriIsKeptAndALocalPathMadeAbsolute() {
        assertThat(FaultTolerance.checkpointDirectory("s3://bucket/run")).isEqualTo("s3://bucket/run/checkpoints");
        assertThat(FaultTolerance.checkpointDirectory("/data/run")).isEqualTo("file:///data/run/checkpoints");
    }
}
