package io.siamstream.k8s.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A restart inside a surviving TaskManager: two TaskManagers with two slots each, the job at parallelism 2 spread over
 * both. Once a checkpoint has committed some steps, the TaskManager that does NOT run the trainer is killed; the job
 * is one failover region, so every task restarts from the checkpoint, all of them in the surviving TaskManager, the
 * trainer in the JVM that already ran it and loaded DJL's natives.
 *
 * <p>Flink 1.20 keeps a job's user-code classloader in a TaskManager for as long as the job holds a slot there, and
 * the surviving TaskManager's slot stays with the job through the restart: the restarted trainer gets the same
 * classloader, so this restart would also pass with DJL only inside the user jar. A new classloader in a live
 * TaskManager JVM comes with a new job there (a resubmission, another job of a session cluster) or after the job
 * gave up all its slots on it: {@link SavepointResubmitIT} shows DJL inside the user jar failing there.
 */
class SurvivingTaskManagerRestartIT {

    @Test
    void trainingGoesOnInTheSurvivingTaskManager() throws Exception {
        Path image = io.siamstream.k8s.ImageLayout.assemble("Dockerfile");
        Path work = io.siamstream.k8s.ImageLayout.k8sDir().resolve("target/cluster-it/surviving-restart");
        Map<String, String> config = new HashMap<>(Clusters.fastCheckpoints());
        // two slots each, and the job's two slots spread over both TaskManagers: after the loss of one, the other
        // has room for the whole job
        config.put("taskmanager.numberOfTaskSlots", "2");
        config.put("taskmanager.load-balance.mode", "SLOTS");
        try (FlinkProcesses cluster = new FlinkProcesses(work, image, config)) {
            cluster.startJobManager();
            cluster.startTaskManager("tm-a");
            cluster.startTaskManager("tm-b");
            FlinkRest rest = new FlinkRest(cluster.restPort());
            Clusters.awaitSlots(rest, 4);

            TrainingRun run = new TrainingRun(work);
            String jar = rest.uploadJar(image.resolve("opt/flink/usrlib/siamstream.jar"));
            String job = rest.runJar(jar, run.args(), 2, null);
            Clusters.waitUntil(() -> run.committedSteps().size() >= 5, Duration.ofMinutes(3),
                    "a completed checkpoint after 5 steps");
            String trainer = rest.taskManagerOf(job, "train");
            String other = trainer.equals("tm-a") ? "tm-b" : "tm-a";
            assertThat(rest.taskManagersOf(job)).as("the job runs on both TaskManagers").containsOnly("tm-a", "tm-b")
                    .hasSize(2);
            long pid = cluster.process(trainer).pid();
            cluster.kill(other);

            Clusters.awaitFinished(rest, job, Duration.ofMinutes(4), cluster);
            assertThat(rest.get("/jobs/" + job + "/checkpoints").path("counts").path("restored").asInt())
                    .as("the job restarted from a checkpoint").isPositive();
            assertThat(rest.taskManagerOf(job, "train")).as("the trainer restarted in the surviving TaskManager")
                    .isEqualTo(trainer);
            assertThat(cluster.process(trainer).isAlive()).isTrue();
            assertThat(cluster.process(trainer).pid()).isEqualTo(pid);
            run.assertEveryStepOnce();
            run.assertFinalEncoderIsTheReferenceLoops();
        }
    }
}
