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
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.functions.FilterFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.clusterframework.types.ResourceID;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.executiongraph.AccessExecutionJobVertex;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.taskexecutor.TaskExecutor;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Losing a whole TaskManager: two TaskManagers with one slot each (the job, at parallelism 2, has tasks on both);
 * after the first checkpoint that follows some training (unaligned, so in-flight pairs are in it too), the
 * TaskManager running the training operator is terminated and a new one is started. The job must recover from the checkpoint on the surviving and the new TaskManager, the
 * exactly-once step files must hold every step once, and the final encoder must equal, bit for bit, the reference
 * loop's ({@link ReplayTrainer}).
 *
 * <p>One barrier mode is enough here: pure unaligned checkpoints, which restore the most (operator state and the
 * records in flight), as the job's default ones do once they turn unaligned. Aligned checkpoints restore operator state only, through the same path: the job's
 * keyed exchanges make it one failover region, so a task failure restarts every task from the checkpoint just as
 * losing a TaskManager does, and {@code StreamingJobTest} and {@code MethodRecoveryTest} recover from a task
 * failure under both modes. What a lost TaskManager adds (new slots, the trainer on another TaskManager, state read
 * back from the checkpoint storage) does not depend on the barriers.
 */
class TaskManagerLossTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(2).setNumberSlotsPerTaskManager(1).build());

    private static final int BATCH = 16;
    /** The first 1,280 records of the replay (80 batches): enough steps to fail in the middle, quickly. */
    private static final long RECORDS = 1280;
    private static final long STEPS = RECORDS / BATCH;

    /** Keeps the records with seq below a bound: a short, deterministic prefix of the replay. */
    private static final class FirstRecords implements FilterFunction<ImageRecord> {
        private static final long serialVersionUID = 1L;
        private final long count;

        FirstRecords(long count) {
            this.count = count;
        }

        @Override
        public boolean filter(ImageRecord record) {
            return record.seq < count;
        }
    }

    @Test
    void losingTheTrainingTaskManagerChangesNothing(@TempDir Path tmp, @InjectMiniCluster MiniCluster cluster)
            throws Exception {
        Configuration options = new Configuration();
        options.set(SiamstreamOptions.EPOCHS, 1L);
        options.set(SiamstreamOptions.BATCH_SIZE, BATCH);
        options.set(SiamstreamOptions.PUBLISH_EVERY, 1000);
        options.set(SiamstreamOptions.SCHEDULE_STEPS, 200L);
        options.set(SiamstreamOptions.DEVICE, "cpu");
        options.set(SiamstreamOptions.LINEAR_EVERY, 0);
        options.set(SiamstreamOptions.OUTPUT, tmp.toString());
        JobSettings settings = JobSettings.from(options);

        // as the job's defaults have it for a trainer slower than its input (FaultTolerance: unaligned once
        // alignment takes 2 s): aligned barriers would wait behind full buffers; unaligned ones also put in-flight
        // pairs into the checkpoint, which the recovery must replay exactly
        Configuration conf = CheckpointedEnvironment.configuration(tmp, Duration.ofMillis(300), Barriers.UNALIGNED);
        // more attempts, further apart, than after a task failure: restarts fail until the new TaskManager has
        // registered its slot
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 5);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env = CheckpointedEnvironment.environment(conf);

        DataStream<ImageRecord> images = SiamstreamJob.replaySource(env, settings)
                .filter(new FirstRecords(RECORDS)).uid("first-records").name("first records");
        JobSinks files = JobSinks.files(tmp.toString());
        SiamstreamJob.Streams streams = SiamstreamJob.build(settings, images, new JobSinks(files.steps(),
                files.reports(), files.deadLetters(), TestSinks.collecting("tm-loss-models")));
        streams.steps().sinkTo(TestSinks.<StepMetrics>collecting("tm-loss-steps")).name("watch steps").setParallelism(1);
        JobClient client = env.executeAsync("taskmanager loss");
        JobID id = client.getJobID();

        // a checkpoint taken after some training: the restore has real learner state to bring back
        waitUntil(() -> TestSinks.received("tm-loss-steps").size() >= 5, "5 steps");
        long afterSteps = System.currentTimeMillis();
        waitUntil(() -> {
            var latest = cluster.getExecutionGraph(id).get().getCheckpointStatsSnapshot().getHistory()
                    .getLatestCompletedCheckpoint();
            return latest != null && latest.getTriggerTimestamp() > afterSteps;
        }, "a checkpoint after 5 steps");

        AccessExecutionGraph running = cluster.getExecutionGraph(id).get();
        ResourceID trainer = taskManagerOf(running, "train");
        List<TaskExecutor> taskManagers = taskManagers(cluster);
        int victim = -1;
        for (int i = 0; i < taskManagers.size(); i++) {
            if (taskManagers.get(i).getResourceID().equals(trainer)) {
                victim = i;
            }
        }
        assertThat(victim).as("the TaskManager running the training operator").isNotNegative();
        long stepsBefore = TestSinks.received("tm-loss-steps").size();
        assertThat(stepsBefore).as("the loss comes in the middle of training").isLessThan(STEPS);

        cluster.terminateTaskManager(victim).get(1, TimeUnit.MINUTES);
        cluster.startTaskManager();

        client.getJobExecutionResult().get(5, TimeUnit.MINUTES);
        AccessExecutionGraph done = cluster.getArchivedExecutionGraph(id).get();
        assertThat(done.getState()).isEqualTo(JobStatus.FINISHED);
        CheckpointedEnvironment.assertRestoredWith(done, Barriers.UNALIGNED);
        assertThat(taskManagerOf(done, "train")).as("training moved off the lost TaskManager").isNotEqualTo(trainer);

        // the exactly-once step files: steps 1..STEPS, each once
        TreeMap<Long, String> committed = CommittedFiles.stepLosses(CommittedFiles.lines(tmp.resolve("steps")));
        assertThat(committed.keySet()).containsExactlyElementsOf(LongStream.rangeClosed(1, STEPS).boxed().toList());
        assertThat(CommittedFiles.lines(tmp.resolve("steps"))).hasSize((int) STEPS);

        ModelUpdate last = TestSinks.<ModelUpdate>received("tm-loss-models").stream()
                .max(Comparator.comparingLong(u -> u.version)).orElseThrow();
        assertThat(last.version).isEqualTo(STEPS);
        Map<String, Tensor> job = LearnerStateCodec.decode(last.encoderState).tensors();
        try (Learner learner = Learner.create(settings.learner())) {
            var sample = FashionMnist.sample(FashionMnist.Split.TRAIN).asImages();
            new ReplayTrainer(learner, sample, settings.view1Policy(), settings.view2Policy(), settings.seed())
                    .train(STEPS, r -> { });
            Map<String, Tensor> reference = learner.encoderSnapshot().tensors();
            assertThat(job.keySet()).isEqualTo(reference.keySet());
            for (String name : reference.keySet()) {
                assertThat(job.get(name).data()).as("job after TaskManager loss vs reference loop: " + name)
                        .isEqualTo(reference.get(name).data());
            }
        }
    }

    /** The TaskManager on which the (single) subtask of the vertex whose name starts with {@code name} runs or ran. */
    private static ResourceID taskManagerOf(AccessExecutionGraph graph, String name) {
        for (AccessExecutionJobVertex vertex : graph.getAllVertices().values()) {
            if (vertex.getName().startsWith(name)) {
                AccessExecutionVertex subtask = vertex.getTaskVertices()[0];
                return subtask.getCurrentExecutionAttempt().getAssignedResourceLocation().getResourceID();
            }
        }
        throw new AssertionError("no vertex " + name + " in " + graph.getAllVertices().values().stream()
                .map(AccessExecutionJobVertex::getName).toList());
    }

    /**
     * The MiniCluster's TaskManagers in the order {@link MiniCluster#terminateTaskManager(int)} indexes them. The
     * MiniCluster does not expose them, nor which index runs which task, so the list is read by reflection.
     */
    @SuppressWarnings("unchecked")
    private static List<TaskExecutor> taskManagers(MiniCluster cluster) throws ReflectiveOperationException {
        Field field = MiniCluster.class.getDeclaredField("taskManagers");
        field.setAccessible(true);
        return new ArrayList<>((List<TaskExecutor>) field.get(cluster));
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void waitUntil(Condition condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (!condition.holds()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            Thread.sleep(50);
        }
    }
}
