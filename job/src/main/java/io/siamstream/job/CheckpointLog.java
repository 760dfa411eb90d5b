package io.siamstream.job;

import io.siamstream.report.RunData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CompletedCheckpointStats;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;

/**
 * Appends every completed checkpoint of one job, as Flink's checkpoint statistics report it (the numbers the web
 * UI's checkpoint tab shows), to {@code checkpoints.jsonl} in the output folder, for the report. Flink keeps these
 * statistics only in the JobManager's memory; the demo reads them from its MiniCluster, also after the job ended.
 */
final class CheckpointLog {

    private final Path file;
    private final Set<Long> written = new HashSet<>();

    /** A new job numbers its checkpoints from 1 again: the file starts empty. */
    CheckpointLog(Path output) throws IOException {
        this.file = output.resolve(RunData.CHECKPOINTS_FILE);
        Files.createDirectories(output);
        Files.deleteIfExists(file);
    }

    /** Appends the completed checkpoints in the graph's statistics that are not in the file yet, by id. */
    void record(AccessExecutionGraph graph) throws IOException {
        var snapshot = graph.getCheckpointStatsSnapshot();
        if (snapshot == null) {
            return;
        }
        List<CompletedCheckpointStats> fresh = new ArrayList<>();
        for (AbstractCheckpointStats c : snapshot.getHistory().getCheckpoints()) {
            if (c instanceof CompletedCheckpointStats done && !written.contains(done.getCheckpointId())) {
                fresh.add(done);
            }
        }
        fresh.sort((a, b) -> Long.compare(a.getCheckpointId(), b.getCheckpointId()));
        StringBuilder lines = new StringBuilder();
        for (CompletedCheckpointStats c : fresh) {
            lines.append(new RunData.Checkpoint(c.getCheckpointId(), c.getTriggerTimestamp(), c.getEndToEndDuration(),
                    c.getCheckpointedSize(), c.getStateSize()).toJson()).append('\n');
            written.add(c.getCheckpointId());
        }
        if (lines.length() > 0) {
            Files.writeString(file, lines, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }
}
