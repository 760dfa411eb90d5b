package io.siamstream.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.siamstream.job.JobSettings;
import io.siamstream.job.JobSinks;
import io.siamstream.job.SiamstreamJob;
import io.siamstream.job.SiamstreamOptions;
import io.siamstream.record.StepMetrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.jobgraph.SavepointConfigOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Stop with a savepoint, resume with other augmentation parallelisms: training goes on from the next step. */
class SavepointRescaleTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    private static JobClient start(Path tmp, String name, int view1, int view2, String savepoint) throws Exception {
        Configuration settings = new Configuration();
        settings.set(SiamstreamOptions.EPOCHS, 0L);          // endless: the job runs until it is stopped
        settings.set(SiamstreamOptions.BATCH_SIZE, 16);
        settings.set(SiamstreamOptions.PUBLISH_EVERY, 100_000);
        settings.set(SiamstreamOptions.DEVICE, "cpu");
        settings.set(SiamstreamOptions.VIEW1_PARALLELISM, view1);
        settings.set(SiamstreamOptions.VIEW2_PARALLELISM, view2);
        settings.set(SiamstreamOptions.OUTPUT, tmp.resolve(name).toString());
        JobSettings job = JobSettings.from(settings);

        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, tmp.resolve("checkpoints").toUri().toString());
        if (savepoint != null) {
            conf.set(SavepointConfigOptions.SAVEPOINT_PATH, savepoint);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(Duration.ofSeconds(2).toMillis());
        env.getConfig().disableGenericTypes();
        JobSinks files = JobSinks.files(tmp.resolve(name).toString());
        SiamstreamJob.build(job, SiamstreamJob.replaySource(env, job),
                new JobSinks(TestSinks.collecting(name), files.reports(), files.deadLetters(), null));
        return env.executeAsync(name);
    }

    private static List<StepMetrics> waitForSteps(String name, int count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (TestSinks.<StepMetrics>received(name).size() < count) {
            assertThat(System.nanoTime()).as("waiting for " + count + " steps").isLessThan(deadline);
            Thread.sleep(100);
        }
        return TestSinks.received(name);
    }

    @Test
    void resumedJobContinuesFromTheSavepointsStep(@TempDir Path tmp) throws Exception {
        JobClient first = start(tmp, "before", 2, 1, null);
        waitForSteps("before", 6);
        String savepoint = first.stopWithSavepoint(false, tmp.resolve("savepoints").toUri().toString(),
                SavepointFormatType.CANONICAL).get();
        long lastBefore = TestSinks.<StepMetrics>received("before").stream().mapToLong(m -> m.step).max().orElseThrow();

        JobClient second = start(tmp, "after", 1, 2, savepoint);
        List<StepMetrics> after = waitForSteps("after", 3);
        second.cancel().get();

        assertThat(after.get(0).step).as("the first step after the resume").isEqualTo(lastBefore + 1);
        assertThat(after).extracting(m -> m.step)
                .startsWith(lastBefore + 1, lastBefore + 2, lastBefore + 3);
        // sequence batching: the resumed step trains exactly the batch that follows the last one before the stop
        assertThat(after.get(0).firstSeq).isEqualTo(lastBefore * 16);
    }
}
