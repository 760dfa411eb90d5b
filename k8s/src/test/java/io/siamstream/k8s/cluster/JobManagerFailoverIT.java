package io.siamstream.k8s.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.siamstream.k8s.ImageLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/**
 * JobManager failover with ZooKeeper HA (curator-test's TestingServer in the test JVM; Flink's processes use their
 * shaded ZooKeeper client): two JobManager processes and one TaskManager. Once a checkpoint has committed some steps,
 * the leading JobManager is killed with SIGKILL; the standby takes the leadership, recovers the job from the HA
 * store and resumes it from the latest checkpoint: every step once, the final encoder the reference loop's.
 */
class JobManagerFailoverIT {

    @Test
    void theStandbyJobManagerTakesOverWithNoStepLostOrRepeated() throws Exception {
        Path image = ImageLayout.assemble("Dockerfile");
        Path work = ImageLayout.k8sDir().resolve("target/cluster-it/jobmanager-failover");
        try (TestingServer zookeeper = new TestingServer(true)) {
            Map<String, String> config = new HashMap<>(Clusters.fastCheckpoints());
            config.put("high-availability.type", "zookeeper");
            config.put("high-availability.zookeeper.quorum", zookeeper.getConnectString());
            config.put("high-availability.storageDir", work.resolve("ha").toUri().toString());
            config.put("high-availability.cluster-id", "/siamstream-it");
            // a killed leader's ZooKeeper session ends, and the standby takes over, within seconds
            config.put("high-availability.zookeeper.client.session-timeout", "6000");
            config.put("high-availability.zookeeper.client.connection-timeout", "5000");
            try (FlinkProcesses cluster = new FlinkProcesses(work, image, config)) {
                int standbyRest = FlinkProcesses.freePort();
                cluster.startJobManager("jm-1", Map.of());
                FlinkRest leader = new FlinkRest(cluster.restPort());
                Clusters.waitUntil(() -> leader.tryGet("/overview") != null, Duration.ofMinutes(2), "jm-1's REST API");
                cluster.startJobManager("jm-2", Map.of("rest.port", String.valueOf(standbyRest),
                        "jobmanager.rpc.port", String.valueOf(FlinkProcesses.freePort())));
                FlinkRest standby = new FlinkRest(standbyRest);
                cluster.startTaskManager("tm-1");
                Clusters.awaitSlots(leader, 1);
                Clusters.waitUntil(() -> standby.tryGet("/config") != null, Duration.ofMinutes(2), "jm-2's REST API");

                TrainingRun run = new TrainingRun(work);
                String jar = leader.uploadJar(image.resolve("opt/flink/usrlib/siamstream.jar"));
                String job = leader.runJar(jar, run.args(), 1, null);
                Clusters.waitUntil(() -> run.committedSteps().size() >= 5, Duration.ofMinutes(3),
                        "a completed checkpoint after 5 steps");
                assertThat(Files.readString(cluster.logs().resolve("jm-1.log")))
                        .as("jm-1 leads").contains("granted leadership");
                assertThat(run.committedSteps().lastKey()).isLessThan(TrainingRun.STEPS);

                cluster.kill("jm-1");

                Clusters.awaitFinished(standby, job, Duration.ofMinutes(4), cluster);
                assertThat(Files.readString(cluster.logs().resolve("jm-2.log")))
                        .as("jm-2 took the leadership").contains("granted leadership");
                assertThat(standby.get("/jobs/" + job + "/checkpoints").path("counts").path("restored").asInt())
                        .as("the new JobMaster resumed from a checkpoint").isPositive();
                run.assertEveryStepOnce();
                run.assertFinalEncoderIsTheReferenceLoops();
            }
        }
    }
}
