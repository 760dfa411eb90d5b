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
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerStateCodec;
import io.siamstream.train.ReplayTrainer;
import io.siamstream.train.Tensor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * BYOL (momentum target, LARS) and MoCo v2 (momentum key encoder, queue) through the streaming job with a task
 * failure injected after a checkpoint: the job recovers from RocksDB state, every step appears once, and the final
 * encoder equals bit for bit the reference loop's uninterrupted run on the same data. The encoder alone is compared,
 * but every step after the recovery depends on the restored target network, queue and optimizer buffers (a lost or
 * stale one changes the loss and so the encoder), so equality shows they were all restored exactly.
 */
class MethodRecoveryTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    private static final int BATCH = 80; // 4,000 images: 50 steps per epoch

    @ParameterizedTest
    @ValueSource(strings = {"byol", "moco"})
    void aFailureInTheMiddleChangesNothing(String method, @TempDir Path tmp) throws Exception {
        Configuration conf = new Configuration();
        conf.set(SiamstreamOptions.METHOD, method);
        conf.set(SiamstreamOptions.MOCO_QUEUE_SIZE, 1000);
        conf.set(SiamstreamOptions.EPOCHS, 1L);
        conf.set(SiamstreamOptions.BATCH_SIZE, BATCH);
        conf.set(SiamstreamOptions.PUBLISH_EVERY, 1000);
        conf.set(SiamstreamOptions.SCHEDULE_STEPS, 50L);
        conf.set(SiamstreamOptions.DEVICE, "cpu");
        conf.set(SiamstreamOptions.VIEW1_PARALLELISM, 2);
        conf.set(SiamstreamOptions.LINEAR_EVERY, 0);
        conf.set(SiamstreamOptions.OUTPUT, tmp.toString());
        JobSettings settings = JobSettings.from(conf);
        assertThat(settings.learner().optimizer().kind()).isEqualTo(method.equals("byol") ? "lars" : "sgd");

        StreamExecutionEnvironment env = CheckpointedEnvironment.environment(
                CheckpointedEnvironment.configuration(tmp, Duration.ofMillis(300)));

        FailOnceAfterCheckpoint.reset();
        DataStream<ImageRecord> images = SiamstreamJob.replaySource(env, settings)
                .map(new FailOnceAfterCheckpoint<>(1200), TypeInformation.of(ImageRecord.class))
                .uid("fail-once").name("fail once");
        String name = "recovery-" + method;
        JobSinks files = JobSinks.files(tmp.toString());
        SiamstreamJob.build(settings, images, new JobSinks(TestSinks.collecting(name + "-steps"), files.reports(),
                files.deadLetters(), TestSinks.collecting(name)));
        env.execute(name);
        assertThat(FailOnceAfterCheckpoint.FAILED).as("the failure was injected").isTrue();

        ModelUpdate last = TestSinks.<ModelUpdate>received(name).stream()
                .max(Comparator.comparingLong(u -> u.version)).orElseThrow();
        assertThat(last.version).isEqualTo(50);
        // the collecting sink is not transactional: replayed steps arrive again, but with identical values
        List<StepMetrics> steps = TestSinks.received(name + "-steps");
        Map<Long, Double> lossByStep = new java.util.TreeMap<>();
        for (StepMetrics s : steps) {
            Double before = lossByStep.put(s.step, s.loss);
            if (before != null) {
                assertThat(s.loss).as("step " + s.step + " replayed with the same loss").isEqualTo(before);
            }
        }
        assertThat(lossByStep.keySet()).containsExactlyElementsOf(
                java.util.stream.LongStream.rangeClosed(1, 50).boxed().toList());

        Map<String, Tensor> job = LearnerStateCodec.decode(last.encoderState).tensors();
        try (Learner learner = Learner.create(settings.learner())) {
            new ReplayTrainer(learner, FashionMnist.sample(FashionMnist.Split.TRAIN).asImages(),
                    settings.view1Policy(), settings.view2Policy(), settings.seed()).train(50, r -> { });
            Map<String, Tensor> reference = learner.encoderSnapshot().tensors();
            assertThat(job.keySet()).isEqualTo(reference.keySet());
            for (String tensor : reference.keySet()) {
                assertThat(job.get(tensor).data()).as(method + " job vs reference loop: " + tensor)
                        .isEqualTo(reference.get(tensor).data());
            }
        }
    }
}
