package io.siamstream.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.job.JobSettings;
import io.siamstream.job.JobSinks;
import io.siamstream.job.SiamstreamJob;
import io.siamstream.job.SiamstreamOptions;
import io.siamstream.record.ImageRecord;
import io.siamstream.record.ModelUpdate;
import io.siamstream.record.StepMetrics;
import io.siamstream.tests.CheckpointedEnvironment.Barriers;
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerStateCodec;
import io.siamstream.train.ReplayTrainer;
import io.siamstream.train.Tensor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.apache.flink.api.common.functions.FilterFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.jobgraph.SavepointConfigOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stop with a savepoint, resume with other parallelisms: training goes on from the next step, and the resumed job
 * ends with the reference loop's encoder, bit for bit.
 *
 * <p>The first job is endless (epochs 0), as a long run is, and is stopped with a savepoint after a few steps. The
 * second restores from it as a bounded job (1 epoch, in practice) over the same data: the replay source's checkpointed state is
 * each split's next sequence number, and the number of epochs only sets where the splits end, so the resumed job
 * replays the rest of epoch 0 and finishes, publishing its final encoder. To keep the test short, the resumed job
 * trains only a prefix of the epoch (a filter behind the source, as in {@code TaskManagerLossTest}): the records up
 * to 10 batches past the last one the first job's source emitted, so everything the savepoint holds is trained. The
 * schedule length is set (not derived from the epochs), identical in both jobs and in the reference loop.
 */
class SavepointRescaleTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    private static final int BATCH = 16;
    /** Batches the resumed job trains beyond the last record the first job's source emitted. */
    private static final long MORE_BATCHES = 10;
    /** Images in the bundled sample's train split: one epoch. */
    private static final long SAMPLE = 4000;

    /** The highest seq the source has emitted in a job. */
    static final AtomicLong MAX_SEQ = new AtomicLong(-1);

    /**
     * Notes the highest seq the source emitted and keeps the records with seq below {@code count}: the bounded job's
     * source still runs to the end of its epoch, but only that prefix is augmented and trained. Stateless, so the
     * count may differ between the stopped and the resumed job.
     */
    private static final class FirstRecords implements FilterFunction<ImageRecord> {
        private static final long serialVersionUID = 1L;
        private final long count;

        FirstRecords(long count) {
            this.count = count;
        }

        @Override
        public boolean filter(ImageRecord record) {
            MAX_SEQ.accumulateAndGet(record.seq, Math::max);
            return record.seq < count;
        }
    }

    private static JobSettings settings(Path out, long epochs, int view1, int view2) {
        // the schedule's length is set, the same in both jobs and the reference loop (it is not derived from epochs)
        Configuration settings = new Configuration();
        settings.set(SiamstreamOptions.EPOCHS, epochs);
        settings.set(SiamstreamOptions.BATCH_SIZE, BATCH);
        settings.set(SiamstreamOptions.PUBLISH_EVERY, 100_000);
        settings.set(SiamstreamOptions.SCHEDULE_STEPS, 200L);
        settings.set(SiamstreamOptions.DEVICE, "cpu");
        settings.set(SiamstreamOptions.LINEAR_EVERY, 0);
        settings.set(SiamstreamOptions.VIEW1_PARALLELISM, view1);
        settings.set(SiamstreamOptions.VIEW2_PARALLELISM, view2);
        settings.set(SiamstreamOptions.OUTPUT, out.toString());
        return JobSettings.from(settings);
    }

    private static JobClient start(Path tmp, String name, JobSettings job, int parallelism, long records,
            String savepoint) throws Exception {
        // unaligned barriers for its checkpoints (what the job's default ones turn into); a savepoint is always aligned
        Configuration conf = CheckpointedEnvironment.configuration(tmp, Duration.ofSeconds(2), Barriers.UNALIGNED);
        if (savepoint != null) {
            conf.set(SavepointConfigOptions.SAVEPOINT_PATH, savepoint);
        }
        StreamExecutionEnvironment env = CheckpointedEnvironment.environment(conf);
        env.setParallelism(parallelism);
        JobSinks files = JobSinks.files(tmp.resolve(name).toString());
        SiamstreamJob.build(job, SiamstreamJob.replaySource(env, job)
                        .filter(new FirstRecords(records)).uid("first-records").name("first records"),
                new JobSinks(TestSinks.collecting(name), files.reports(), files.deadLetters(),
                        TestSinks.collecting(name + "-models")));
        return env.executeAsync(name);
    }

    private static void waitForSteps(String name, int count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (TestSinks.<StepMetrics>received(name).size() < count) {
            assertThat(System.nanoTime()).as("waiting for " + count + " steps").isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    @Test
    void resumedJobContinuesFromTheSavepointsStepAndEndsWithTheReferenceEncoder(@TempDir Path tmp) throws Exception {
        MAX_SEQ.set(-1);
        // endless, source and pairing at parallelism 2, view 1 at 2, view 2 at 1
        JobClient first = start(tmp, "before", settings(tmp.resolve("before"), 0, 2, 1), 2, Long.MAX_VALUE, null);
        waitForSteps("before", 4);
        String savepoint = first.stopWithSavepoint(false, tmp.resolve("savepoints").toUri().toString(),
                SavepointFormatType.CANONICAL).get(2, TimeUnit.MINUTES);
        long lastBefore = TestSinks.<StepMetrics>received("before").stream().mapToLong(m -> m.step).max().orElseThrow();
        assertThat(TestSinks.<ModelUpdate>received("before-models")).as("no end of input in an endless job").isEmpty();
        // the records the first job's operators hold are trained by the second, so its end lies beyond all of them:
        // how far the source ran ahead of the trainer before the stop depends on the machine's load
        long sourceAtStop = MAX_SEQ.get();
        long steps = sourceAtStop / BATCH + 1 + MORE_BATCHES;
        long records = steps * BATCH;

        // bounded (the epochs that hold those records: 1 unless the source ran far ahead), source and pairing at
        // parallelism 3, view 1 at 1, view 2 at 2
        long epochs = (records + SAMPLE - 1) / SAMPLE;
        JobSettings resumed = settings(tmp.resolve("after"), epochs, 1, 2);
        JobClient second = start(tmp, "after", resumed, 3, records, savepoint);
        second.getJobExecutionResult().get(5, TimeUnit.MINUTES);

        List<StepMetrics> after = TestSinks.received("after");
        assertThat(after.get(0).step).as("the first step after the resume").isEqualTo(lastBefore + 1);
        // sequence batching: the resumed step trains exactly the batch that follows the last one before the stop
        assertThat(after.get(0).firstSeq).isEqualTo(lastBefore * BATCH);
        assertThat(after).extracting(m -> m.step)
                .containsExactlyElementsOf(LongStream.rangeClosed(lastBefore + 1, steps).boxed().toList());

        ModelUpdate last = TestSinks.<ModelUpdate>received("after-models").stream()
                .max(Comparator.comparingLong(u -> u.version)).orElseThrow();
        assertThat(last.version).as("the final encoder's step").isEqualTo(steps);
        Map<String, Tensor> job = LearnerStateCodec.decode(last.encoderState).tensors();
        try (Learner learner = Learner.create(resumed.learner())) {
            new ReplayTrainer(learner, FashionMnist.sample(FashionMnist.Split.TRAIN).asImages(),
                    resumed.view1Policy(), resumed.view2Policy(), resumed.seed()).train(steps, r -> { });
            Map<String, Tensor> reference = learner.encoderSnapshot().tensors();
            assertThat(job.keySet()).isEqualTo(reference.keySet());
            for (String name : reference.keySet()) {
                assertThat(job.get(name).data()).as("job stopped at step " + lastBefore + " and resumed vs reference"
                        + " loop: " + name).isEqualTo(reference.get(name).data());
            }
        }
        System.out.printf(java.util.Locale.ROOT, "savepoint at step %d (source at seq %d), resumed to step %d: the"
                + " reference loop's encoder%n", lastBefore, sourceAtStop, steps);
    }
}
