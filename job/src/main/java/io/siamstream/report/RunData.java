package io.siamstream.report;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What one run left in its output folder, as the report shows it: the committed step metrics ({@code steps/}),
 * evaluation reports ({@code reports/}), dead letters ({@code dead-letters/}), the checkpoints the demo recorded
 * ({@code checkpoints.jsonl}) and the models' LATEST and method. Only committed files are read: the exactly-once file
 * sinks keep in-progress and pending parts under names that start with '.'.
 */
public record RunData(Path dir, String method, List<Step> steps, List<Evaluation> evaluations,
                      Map<String, Long> deadLettersByReason, List<Checkpoint> checkpoints, long latestVersion) {

    public static final String CHECKPOINTS_FILE = "checkpoints.jsonl";

    /** One step record; a skipped step has no loss (NaN). */
    public record Step(long step, double loss, double lr, double pairsPerSecond, double projectionStd,
                       double outputStd, double healthyStd, boolean skipped) {}

    /** One evaluation report; {@code linearTop1} is NaN for versions without a linear probe. */
    public record Evaluation(long version, double knnTop1, double linearTop1, double featureStd,
                             double healthyFeatureStd) {}

    /** One completed checkpoint: id, end-to-end duration, checkpointed (uploaded) and full state size. */
    public record Checkpoint(long id, long triggerMillis, long durationMs, long checkpointedBytes, long stateBytes) {

        public String toJson() {
            return "{\"id\":" + id + ",\"trigger_ms\":" + triggerMillis + ",\"duration_ms\":" + durationMs
                    + ",\"checkpointed_bytes\":" + checkpointedBytes + ",\"state_bytes\":" + stateBytes + "}";
        }
    }

    /** True when {@code dir} holds a run's output (step metrics or evaluation reports). */
    public static boolean isRun(Path dir) {
        return Files.isDirectory(dir.resolve("steps")) || Files.isDirectory(dir.resolve("reports"));
    }

    public static RunData read(Path dir) {
        Map<Long, Step> steps = new TreeMap<>();
        for (JsonObject o : lines(dir.resolve("steps"))) {
            // one record per batch (exactly once); a skipped batch repeats the step count, keep the step's update
            Step s = new Step(o.get("step").getAsLong(), number(o, "loss"), number(o, "lr"), number(o, "pairs_per_s"),
                    number(o, "projection_std"), number(o, "output_std"), number(o, "healthy_std"),
                    o.has("skipped") && o.get("skipped").getAsBoolean());
            steps.merge(s.step(), s, (a, b) -> a.skipped() ? b : a);
        }
        Map<Long, Evaluation> evaluations = new TreeMap<>();
        for (JsonObject o : lines(dir.resolve("reports"))) {
            Evaluation e = new Evaluation(o.get("version").getAsLong(), number(o, "knn_top1"), number(o, "linear_top1"),
                    number(o, "feature_std"), number(o, "healthy_feature_std"));
            evaluations.put(e.version(), e);
        }
        Map<String, Long> deadLetters = new TreeMap<>();
        for (JsonObject o : lines(dir.resolve("dead-letters"))) {
            JsonElement reason = o.get("reason");
            deadLetters.merge(reason == null || reason.isJsonNull() ? "unknown" : reason.getAsString(), 1L, Long::sum);
        }
        Map<Long, Checkpoint> checkpoints = new TreeMap<>();
        for (JsonObject o : jsonLines(dir.resolve(CHECKPOINTS_FILE))) {
            Checkpoint c = new Checkpoint(o.get("id").getAsLong(), o.get("trigger_ms").getAsLong(),
                    o.get("duration_ms").getAsLong(), o.get("checkpointed_bytes").getAsLong(),
                    o.get("state_bytes").getAsLong());
            checkpoints.put(c.id(), c);
        }
        long latest = -1;
        String method = null;
        Path models = dir.resolve("models");
        try {
            if (Files.isRegularFile(models.resolve("LATEST"))) {
                latest = Long.parseLong(Files.readString(models.resolve("LATEST")).trim());
                Path json = models.resolve(Long.toString(latest)).resolve("model.json");
                if (Files.isRegularFile(json)) {
                    JsonElement m = JsonParser.parseString(Files.readString(json)).getAsJsonObject().get("method");
                    method = m == null || m.isJsonNull() ? null : m.getAsString();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new RunData(dir, method, List.copyOf(steps.values()), List.copyOf(evaluations.values()),
                new LinkedHashMap<>(deadLetters), List.copyOf(checkpoints.values()), latest);
    }

    /** A name for the run: its folder's, with the method where the folder does not say it (runs of one method differ). */
    public String name() {
        String folder = dir.toAbsolutePath().normalize().getFileName().toString();
        return method == null || folder.equals(method) ? folder : folder + " (" + method + ")";
    }

    public long deadLetterCount() {
        return deadLettersByReason.values().stream().mapToLong(Long::longValue).sum();
    }

    /** How many evaluation reports the run has committed so far. */
    public static int committedEvaluations(Path dir) {
        return lines(dir.resolve("reports")).size();
    }

    private static double number(JsonObject o, String field) {
        JsonElement e = o.get(field);
        return e == null || e.isJsonNull() ? Double.NaN : e.getAsDouble();
    }

    /** Every JSON line of the committed files below {@code folder} (none when it is not there). */
    private static List<JsonObject> lines(Path folder) {
        List<JsonObject> out = new ArrayList<>();
        if (!Files.isDirectory(folder)) {
            return out;
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(folder)) {
            files = walk.filter(Files::isRegularFile).filter(f -> committed(folder.relativize(f))).sorted(Comparator.naturalOrder()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Path f : files) {
            out.addAll(jsonLines(f));
        }
        return out;
    }

    private static boolean committed(Path relative) {
        for (Path part : relative) {
            if (part.toString().startsWith(".")) {
                return false;
            }
        }
        return true;
    }

    private static List<JsonObject> jsonLines(Path file) {
        List<JsonObject> out = new ArrayList<>();
        if (!Files.isRegularFile(file)) {
            return out;
        }
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    out.add(JsonParser.parseString(line).getAsJsonObject());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
