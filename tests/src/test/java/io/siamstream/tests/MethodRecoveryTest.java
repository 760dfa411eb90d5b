package io.siamstream.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.job.JobSettings;
import io.siamstream.job.JobSinks;
import io.siamstream.job.SiamstreamJob;
import io.siamstream.job.SiamstreamOptions;
import io.siamstream.record.ImageRecord;
import io.siamstream.record.ModelUpdate;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * BYOL (momentum target, LARS) and MoCo v2 (momentum key encoder, queue) through the streaming job with a task
 * failure injected after a checkpoint: the job recovers from RocksDB state, every step appears once, and the final
 * encoder equals bit for bit the reference loop's uninterrupted run on the same data. The encoder alone is compared,
 * but every step after the recovery depends on the restored target network, queue and optimizer buffers (a lost or
 * stale one changes the loss and so the encoder), so equality shows they were all restored exactly. Each method
 * runs under aligned, pure unaligned (whose checkpoints also hold the pairs in flight) and the job's default barriers
 * (aligned at first, unaligned once a checkpoint has waited past the alignment timeout: the checkpoint restored from
 * switched on its way); the reference run is made once per method.
 */
class MethodRecoveryTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4)
            .setConfiguration(CheckpointedEnvironment.clusterConfiguration()).build());

    private static final int BATCH = 80; // 4,000 images: 50 steps per epoch

    /** Each method's reference run (the encoder after 50 steps), made once for both barrier modes. */
    private static final Map<String, Map<String, Tensor>> REFERENCE = new ConcurrentHashMap<>();

    private static Map<String, Tensor> reference(String method, JobSettings settings) {
        return REFERENCE.computeIfAbsent(method, m -> {
            try (Learner learner = Learner.create(settings.learner())) {
                new ReplayTrainer(learner, FashionMnist.sample(FashionMnist.Split.TRAIN).asImages(),
                        settings.view1Policy(), settings.view2Policy(), settings.seed()).train(50, r -> { });
                return learner.encoderSnapshot().tensors();
            }
        });
    }

    @ParameterizedTest(name = "{0}, {1} checkpoints")
    @CsvSource({"byol, ALIGNED", "byol, UNALIGNED", "byol, UNALIGNED_AFTER_TIMEOUT", "moco, ALIGNED", "moco, UNALIGNED",
        "moco, UNALIGNED_AFTER_TIMEOUT"})
    void aFailureInTheMiddleChangesNothing(String method, Barriers barriers, @TempDir Path tmp,
            @InjectMiniCluster MiniCluster cluster) throws Exception {
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
                CheckpointedEnvironment.configuration(tmp, Duration.ofMillis(300), barriers));

        FailOnceAfterCheckpoint.reset();
        DataStream<ImageRecord> images = SiamstreamJob.replaySource(env, settings)
                .map(new FailOnceAfterCheckpoint<>(1200), TypeInformation.of(ImageRecord.class))
                .uid("fail-once").name("fail once");
        String name = "recovery-" + method + "-" + barriers;
        JobSinks files = JobSinks.files(tmp.toString());
        SiamstreamJob.build(settings, images, new JobSinks(files.steps(), files.reports(),
                files.deadLetters(), TestSinks.collecting(name)));
        JobClient client = env.executeAsync(name);
        client.getJobExecutionResult().get(10, TimeUnit.MINUTES);
        CheckpointedEnvironment.awaitCheckpointsDiscarded(tmp);
        assertThat(FailOnceAfterCheckpoint.FAILED).as("the failure was injected").isTrue();
        long inFlight = CheckpointedEnvironment.assertRestoredWith(
                cluster.getArchivedExecutionGraph(client.getJobID()).get(), barriers);
        System.out.printf(java.util.Locale.ROOT, "%s, %s: recovered; in-flight bytes persisted by the checkpoints in"
                + " Flink's stats history: %d%n",
                method, barriers, inFlight);

        ModelUpdate last = TestSinks.<ModelUpdate>received(name).stream()
                .max(Comparator.comparingLong(u -> u.version)).orElseThrow();
        assertThat(last.version).isEqualTo(50);
        // the exactly-once step files: steps 1..50, each once
        List<String> steps = CommittedFiles.lines(tmp.resolve("steps"));
        assertThat(steps).hasSize(50);
        assertThat(CommittedFiles.stepLosses(steps).keySet()).containsExactlyElementsOf(
                java.util.stream.LongStream.rangeClosed(1, 50).boxed().toList());

        Map<String, Tensor> job = LearnerStateCodec.decode(last.encoderState).tensors();
        Map<String, Tensor> reference = reference(method, settings);
        assertThat(job.keySet()).isEqualTo(reference.keySet());
        // what a divergence would come from: a pair the job lost or a step it took on a partial batch
        String trail = "dead letters " + CommittedFiles.lines(tmp.resolve("dead-letters")) + "; steps with other than "
                + BATCH + " pairs " + steps.stream().filter(l -> CommittedFiles.number(l, "pairs") != BATCH).toList();
        for (String tensor : reference.keySet()) {
            assertThat(job.get(tensor).data())
                    .as(method + " job (" + barriers + ") vs reference loop: " + tensor + " (" + trail + ")")
                    .isEqualTo(reference.get(tensor).data());
        }
    }
}
