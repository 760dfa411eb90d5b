package io.siamstream.k8s.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;

/** Waiting on a cluster: conditions with deadlines that say what they waited for, and the job's end. */
final class Clusters {

    private Clusters() {}

    interface Condition {
        boolean holds() throws Exception;
    }

    static void waitUntil(Condition condition, Duration timeout, String what) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.holds()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    /** Waits until the cluster offers {@code slots} task slots in all. */
    static void awaitSlots(FlinkRest rest, int slots) throws Exception {
        waitUntil(() -> {
            JsonNode overview = rest.tryGet("/overview");
            return overview != null && overview.path("slots-total").asInt() == slots;
        }, Duration.ofMinutes(2), slots + " task slots");
    }

    /** Waits for the job to finish; fails with the job's exceptions when it fails or is cancelled instead. */
    static void awaitFinished(FlinkRest rest, String job, Duration timeout) throws Exception {
        waitUntil(() -> {
            String state = rest.jobState(job);
            if (state != null && (state.equals("FAILED") || state.equals("CANCELED"))) {
                throw new AssertionError("job " + job + " " + state + ": " + rest.tryGet("/jobs/" + job + "/exceptions"));
            }
            return "FINISHED".equals(state);
        }, timeout, "job " + job + " to finish");
    }

    /** Flink settings of the cluster ITs: checkpoints every second, quick restarts. */
    static Map<String, String> fastCheckpoints() {
        return Map.of(
                "execution.checkpointing.interval", "1s",
                "execution.checkpointing.min-pause", "500ms",
                "restart-strategy.type", "fixed-delay",
                "restart-strategy.fixed-delay.attempts", "10",
                "restart-strategy.fixed-delay.delay", "1s");
    }
}
