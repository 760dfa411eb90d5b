package io.siamstream.k8s.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.siamstream.k8s.ImageLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of the trainer's TaskManager on a standalone cluster of separate processes, run on the CPU image's layout:
 * two TaskManagers with one slot each (the job runs at parallelism 2, so both have tasks); once a checkpoint has
 * committed some steps, the TaskManager process that runs the training operator is killed with SIGKILL and a new
 * TaskManager process is started. The job must restore from the checkpoint, the committed step files must hold every
 * step once, and the exported final encoder must equal the reference loop's bit for bit.
 */
class TaskManagerKillIT {

    private static Path image;

    @BeforeAll
    static void layout() throws Exception {
        image = ImageLayout.assemble("Dockerfile");
    }

    @Test
    void killingTheTrainersTaskManagerChangesNothing() throws Exception {
        Path work = ImageLayout.k8sDir().resolve("target/cluster-it/taskmanager-kill");
        Map<String, String> config = new HashMap<>(Clusters.fastCheckpoints());
        try (FlinkProcesses cluster = new FlinkProcesses(work, image, config)) {
            cluster.startJobManager();
            cluster.startTaskManager("tm-1");
            cluster.startTaskManager("tm-2");
            FlinkRest rest = new FlinkRest(cluster.restPort());
            Clusters.awaitSlots(rest, 2);

            TrainingRun run = new TrainingRun(work);
            String jar = rest.uploadJar(image.resolve("opt/flink/usrlib/siamstream.jar"));
            String job = rest.runJar(jar, run.args(), 2, null);

            // committed steps exist only once a checkpoint that covers them has completed
            Clusters.waitUntil(() -> run.committedSteps().size() >= 5, Duration.ofMinutes(3),
                    "a completed checkpoint after 5 steps");
            String trainer = rest.taskManagerOf(job, "train");
            long committedBefore = run.committedSteps().lastKey();
            assertThat(committedBefore).as("the kill comes in the middle of training").isLessThan(TrainingRun.STEPS);

            cluster.kill(trainer);
            cluster.startTaskManager("tm-3");

            Clusters.awaitFinished(rest, job, Duration.ofMinutes(4), cluster);
            assertThat(rest.get("/jobs/" + job + "/checkpoints").path("counts").path("restored").asInt())
                    .as("the job restored from a checkpoint").isPositive();
            assertThat(rest.taskManagerOf(job, "train")).as("training moved off the killed TaskManager")
                    .isNotEqualTo(trainer);
            run.assertEveryStepOnce();
            run.assertFinalEncoderIsTheReferenceLoops();
        }
    }
}
