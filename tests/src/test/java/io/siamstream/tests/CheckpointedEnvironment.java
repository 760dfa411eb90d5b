package io.siamstream.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CheckpointStatsStatus;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** The environment the recovery tests run the job in: RocksDB, incremental checkpoints, a fixed-delay restart. */
final class CheckpointedEnvironment {

    private CheckpointedEnvironment() {}

    /**
     * How checkpoint barriers pass the operators. The job's default ({@code FaultTolerance}) starts aligned and turns
     * unaligned after 2 s, Flink's own is aligned; the recovery tests run under aligned and pure unaligned barriers,
     * which restore different things (operator state alone, or with the records in flight), and under the default's
     * switch from one to the other.
     */
    enum Barriers {
        /** Barriers wait for each other at every input: a checkpoint holds operator state only. */
        ALIGNED,
        /**
         * Barriers overtake the buffered records, which go into the checkpoint with the operator state and are
         * replayed into the operators on restore (what the job's checkpoints turn into when they have not aligned
         * within the default 2 s: its trainer always backpressures).
         */
        UNALIGNED,
        /**
         * Barriers start aligned and overtake the buffered records once a checkpoint has waited longer than
         * {@link #ALIGNMENT_TIMEOUT} to align: the job's default mode, whose timeout is 2 s, here so short that the
         * checkpoints of a backpressured test job switch to unaligned on their way (in an output queue or while an
         * operator aligns its inputs) and hold records in flight.
         */
        UNALIGNED_AFTER_TIMEOUT;

        boolean unaligned() {
            return this != ALIGNED;
        }
    }

    /** The alignment timeout of {@link Barriers#UNALIGNED_AFTER_TIMEOUT}. */
    static final Duration ALIGNMENT_TIMEOUT = Duration.ofMillis(10);

    /**
     * Flink's checkpoint history (the JobManager keeps the last 10 by default) large enough for a test job's every
     * checkpoint, so that the one a job restored from can be looked up after the job ends: a test cluster's setting,
     * since Flink reads it from the JobManager's configuration.
     */
    static Configuration clusterConfiguration() {
        Configuration conf = new Configuration();
        conf.set(WebOptions.CHECKPOINTS_HISTORY_SIZE, 10_000);
        return conf;
    }

    /** As {@link #configuration(Path, Duration, Barriers)} with aligned barriers. */
    static Configuration configuration(Path out, Duration interval) {
        return configuration(out, interval, Barriers.ALIGNED);
    }

    /**
     * RocksDB with incremental checkpoints under {@code out/checkpoints} every {@code interval} (frequent checkpoints
     * give a failure something recent to recover from; each one writes the whole model), with the given barriers,
     * and 3 restarts 100 ms apart.
     */
    static Configuration configuration(Path out, Duration interval, Barriers barriers) {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, out.resolve("checkpoints").toUri().toString());
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, interval);
        conf.set(CheckpointingOptions.ENABLE_UNALIGNED, barriers.unaligned());
        if (barriers == Barriers.UNALIGNED_AFTER_TIMEOUT) {
            conf.set(CheckpointingOptions.ALIGNED_CHECKPOINT_TIMEOUT, ALIGNMENT_TIMEOUT);
        } else if (barriers == Barriers.UNALIGNED) {
            conf.set(CheckpointingOptions.ALIGNED_CHECKPOINT_TIMEOUT, Duration.ZERO);
        }
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
        return conf;
    }

    /** An environment of parallelism 2 on {@code conf} that refuses generic (Kryo) types. */
    static StreamExecutionEnvironment environment(Configuration conf) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.getConfig().disableGenericTypes();
        return env;
    }

    /**
     * Checks that a finished job was restored from a checkpoint and ran with the given barriers (no unaligned
     * checkpoint among those in Flink's stats history when aligned; with the alignment timeout, the checkpoint restored
     * from holds records in flight, so it switched); returns the in-flight bytes that the completed checkpoints of that
     * history persisted, for the log (the history may be empty after a restart).
     */
    static long assertRestoredWith(AccessExecutionGraph job, Barriers barriers) {
        var stats = job.getCheckpointStatsSnapshot();
        var restored = stats.getLatestRestoredCheckpoint();
        assertThat(restored).as("the job was restored from a checkpoint").isNotNull();
        var coordinator = job.getCheckpointCoordinatorConfiguration();
        assertThat(coordinator.isUnalignedCheckpointsEnabled()).as("unaligned checkpoints enabled")
                .isEqualTo(barriers.unaligned());
        if (barriers == Barriers.UNALIGNED_AFTER_TIMEOUT) {
            // every checkpoint started aligned; the one restored from persisted records in flight, so it switched
            assertThat(coordinator.getAlignedCheckpointTimeout()).as("alignment timeout ms")
                    .isEqualTo(ALIGNMENT_TIMEOUT.toMillis());
            AbstractCheckpointStats from = stats.getHistory().getCheckpointById(restored.getCheckpointId());
            assertThat(from).as("checkpoint " + restored.getCheckpointId() + " in Flink's history (a test cluster"
                    + " needs clusterConfiguration())").isNotNull();
            // the switch shows in the bytes in flight it persisted; it needs a backpressured job, which a CPU
            // trainer on the test's replay source is
            assertThat(from.getPersistedData()).as("in-flight bytes in the checkpoint restored from (none: it"
                    + " aligned within the timeout, so the job was not backpressured)").isPositive();
        }
        List<AbstractCheckpointStats> completed = stats.getHistory().getCheckpoints().stream()
                .filter(c -> c.getStatus() == CheckpointStatsStatus.COMPLETED).toList();
        if (barriers == Barriers.ALIGNED) {
            assertThat(completed).as("no unaligned checkpoint").noneMatch(AbstractCheckpointStats::isUnalignedCheckpoint);
        }
        return completed.stream().mapToLong(AbstractCheckpointStats::getPersistedData).sum();
    }

    /**
     * Waits (at most 30 s) until nothing has changed under {@code out/checkpoints} for 600 ms: Flink discards a
     * finished job's checkpoints in the background, and JUnit's removal of the temporary folder failed when it ran at
     * the same time (seen when a test ended right after its job). A checkpoint folder may stay (the last unaligned
     * one did in these tests), which is why quiet, not emptiness, is the signal.
     */
    static void awaitCheckpointsDiscarded(Path out) throws IOException, InterruptedException {
        Path root = out.resolve("checkpoints");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<Path> before = null;
        int quiet = 0;
        while (System.nanoTime() < deadline) {
            List<Path> now;
            try (Stream<Path> files = Files.exists(root) ? Files.walk(root) : Stream.empty()) {
                now = files.sorted().toList();
            } catch (UncheckedIOException e) {
                now = null; // a file went away during the walk: not settled yet
            }
            quiet = now != null && now.equals(before) ? quiet + 1 : 0;
            if (quiet == 3) {
                return;
            }
            before = now;
            Thread.sleep(200);
        }
        System.out.println("checkpoints under " + root + " still changing after 30 s; going on");
    }
}
