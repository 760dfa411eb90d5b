package io.siamstream.k8s.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.siamstream.k8s.ImageLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Stop with a savepoint over REST and resubmit the jar from it, on one TaskManager: the second job continues at step
 * last + 1 and ends on the reference loop's encoder. The resubmitted job is a new job in the same TaskManager JVM, so
 * Flink gives it a new user-code classloader there; with DJL only inside the user jar that classloader cannot load
 * DJL's natives a second time, and the job fails (the second configuration shows it).
 */
class SavepointResubmitIT {

    @ParameterizedTest
    @EnumSource(DjlPlacement.class)
    void stopWithSavepointAndResubmitContinuesAtTheNextStep(DjlPlacement placement) throws Exception {
        Path image = placement.layout();
        Path work = ImageLayout.k8sDir().resolve("target/cluster-it/savepoint-resubmit-" + placement);
        try (FlinkProcesses cluster = new FlinkProcesses(work, image, Clusters.fastCheckpoints())) {
            cluster.startJobManager();
            cluster.startTaskManager("tm-1");
            FlinkRest rest = new FlinkRest(cluster.restPort());
            Clusters.awaitSlots(rest, 1);

            TrainingRun run = new TrainingRun(work);
            String jar = rest.uploadJar(image.resolve("opt/flink/usrlib/siamstream.jar"));
            String first = rest.runJar(jar, run.args(), 1, null);
            Clusters.waitUntil(() -> run.committedSteps().size() >= 5, Duration.ofMinutes(3),
                    "a completed checkpoint after 5 steps");
            String savepoint = rest.stopWithSavepoint(first, work.resolve("savepoints"));
            Clusters.waitUntil(() -> "FINISHED".equals(rest.jobState(first)), Duration.ofMinutes(1), "the stopped job");
            // the savepoint committed what the stopped job trained: steps 1..last, each once
            TreeMap<Long, String> before = run.committedSteps();
            long last = before.lastKey();
            assertThat(before.keySet()).containsExactlyElementsOf(LongStream.rangeClosed(1, last).boxed().toList());
            assertThat(last).as("stopped in the middle of training").isLessThan(TrainingRun.STEPS);

            String second = rest.runJar(jar, run.args(), 1, savepoint);
            if (placement == DjlPlacement.USER_JAR) {
                String failure = awaitFailure(rest, second);
                assertThat(failure).contains("UnsatisfiedLinkError").contains("already loaded in another classloader");
                return;
            }
            Clusters.awaitFinished(rest, second, Duration.ofMinutes(4), cluster);
            // steps last+1..STEPS came from the resubmitted job: together every step once
            TreeMap<Long, String> after = run.committedSteps();
            assertThat(after.headMap(last, true)).isEqualTo(before);
            assertThat(after.firstKey()).isEqualTo(1);
            assertThat(after.tailMap(last, false).firstKey()).as("the resubmitted job's first step").isEqualTo(last + 1);
            run.assertEveryStepOnce();
            run.assertFinalEncoderIsTheReferenceLoops();
        }
    }

    /** Waits for the job's first failure and returns its stack trace. */
    private static String awaitFailure(FlinkRest rest, String job) throws Exception {
        String[] trace = new String[1];
        Clusters.waitUntil(() -> {
            JsonNode exceptions = rest.tryGet("/jobs/" + job + "/exceptions");
            if (exceptions == null) {
                return false;
            }
            List<String> traces = exceptions.path("exceptionHistory").path("entries").findValuesAsText("stacktrace");
            if (traces.isEmpty()) {
                return false;
            }
            trace[0] = String.join("\n", traces);
            return true;
        }, Duration.ofMinutes(3), "a failure of job " + job);
        return trace[0];
    }
}
