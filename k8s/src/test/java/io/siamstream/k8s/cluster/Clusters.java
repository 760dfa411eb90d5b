package io.siamstream.k8s.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;

/** Waiting on a cluster: conditions with deadlines that say what they waited for, and the job's end. */
final class Clusters {

    private Clusters() {}

    interface Condition {
        boolean holds() throws Exception;
    }

    static void waitUntil(Condition condition, Duration timeout, String what) throws Exception {
        waitUntil(condition, timeout, () -> what);
    }

    /** As above, with what was waited for described only when the wait fails (the description may be costly). */
    static void waitUntil(Condition condition, Duration timeout, Supplier<String> what) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.holds()) {
            assertThat(System.nanoTime()).as(() -> "waiting for " + what.get()).isLessThan(deadline);
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

    /**
     * Waits for the job to finish; fails with the job's exceptions when it fails or is cancelled instead, and with
     * where the job stands (its state, its tasks' states, its restarts and exceptions, checkpoints, and the last
     * warnings and errors of every process's log) when it does not finish in time: CI keeps only the failure's
     * message, not the cluster's log files.
     */
    static void awaitFinished(FlinkRest rest, String job, Duration timeout, FlinkProcesses cluster) throws Exception {
        waitUntil(() -> {
            String state = rest.jobState(job);
            if (state != null && (state.equals("FAILED") || state.equals("CANCELED"))) {
                throw new AssertionError("job " + job + " " + state + ": " + rest.tryGet("/jobs/" + job + "/exceptions"));
            }
            return "FINISHED".equals(state);
        }, timeout, () -> "job " + job + " to finish within " + timeout + "\n" + whereTheJobStands(rest, job, cluster));
    }

    /** The job's state, its tasks, restarts, exceptions and checkpoints, and each process's last warnings. */
    static String whereTheJobStands(FlinkRest rest, String job, FlinkProcesses cluster) {
        StringBuilder out = new StringBuilder();
        out.append("state: ").append(rest.jobState(job)).append('\n');
        JsonNode details = rest.tryGet("/jobs/" + job);
        if (details != null) {
            for (JsonNode v : details.path("vertices")) {
                String name = v.path("name").asText();
                out.append("  ").append(name.length() > 40 ? name.substring(0, 40) + "..." : name).append(": ")
                        .append(v.path("status").asText());
                v.path("tasks").fields().forEachRemaining(t -> {
                    if (t.getValue().asInt() > 0) {
                        out.append(' ').append(t.getKey()).append('=').append(t.getValue().asInt());
                    }
                });
                out.append('\n');
            }
        }
        JsonNode exceptions = rest.tryGet("/jobs/" + job + "/exceptions?maxExceptions=5");
        JsonNode entries = exceptions == null ? null : exceptions.path("exceptionHistory").path("entries");
        if (entries == null || entries.isEmpty()) {
            out.append("exceptions: none recorded ").append(exceptions == null ? "(no answer)" : "").append('\n');
        } else {
            for (JsonNode e : entries) {
                String trace = e.path("stacktrace").asText();
                out.append("exception at ").append(java.time.Instant.ofEpochMilli(e.path("timestamp").asLong()))
                        .append(" in ").append(e.path("taskName").asText("(global)")).append(" on ")
                        .append(e.path("taskManagerId").asText("-")).append(": ")
                        .append(trace.lines().limit(2).reduce((a, b) -> a + " | " + b).orElse("")).append('\n');
            }
        }
        JsonNode checkpoints = rest.tryGet("/jobs/" + job + "/checkpoints");
        if (checkpoints != null) {
            out.append("checkpoints: ").append(checkpoints.path("counts")).append('\n');
        }
        JsonNode taskManagers = rest.tryGet("/taskmanagers");
        if (taskManagers != null) {
            for (JsonNode tm : taskManagers.path("taskmanagers")) {
                out.append("taskmanager ").append(tm.path("id").asText()).append(": slots ")
                        .append(tm.path("freeSlots").asInt()).append(" free of ").append(tm.path("slotsNumber").asInt())
                        .append('\n');
            }
        }
        cluster.logTails(6).forEach((name, lines) -> {
            out.append("--- ").append(name).append(".log, last warnings and errors:\n");
            lines.forEach(l -> out.append("  ").append(l).append('\n'));
        });
        return out.toString();
    }

    /** Flink settings of the cluster ITs: checkpoints every second, quick restarts. */
    static Map<String, String> fastCheckpoints() {
        return Map.of(
                "execution.checkpointing.interval", "1s",
                "execution.checkpointing.min-pause", "500ms",
                "restart-strategy.type", "fixed-delay",
                "restart-strategy.fixed-delay.attempts", "10",
                "restart-strategy.fixed-delay.delay", "1s",
                // a slot request that no TaskManager will answer (one was killed) fails the attempt after a minute,
                // and the restart strategy tries again, instead of the default five minutes of waiting
                "slot.request.timeout", "60000");
    }
}
