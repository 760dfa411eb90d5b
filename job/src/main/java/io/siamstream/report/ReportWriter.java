package io.siamstream.report;

import io.siamstream.connectors.model.CommittedArtifactLoader;
import io.siamstream.eval.EncoderVersion;
import io.siamstream.eval.EvaluationSet;
import io.siamstream.eval.ModelVersionRejected;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes {@value #FILE} into an output folder: the page of the run, or, where the folder holds several runs (one
 * sub-folder each, as a method comparison leaves them), every run's own page and a side-by-side page of all of them.
 * One writer is kept for the life of a job, so the evaluation data, the baselines and the map of a version are worked
 * out once, not at every refresh. Pages are replaced atomically: a browser that reloads never reads half a page.
 */
public final class ReportWriter {

    public static final String FILE = "report.html";

    /** What the report needs besides the output folder: the evaluation data, its class names and its baselines. */
    public interface Data {
        /** The labelled test (queries) and train (bank) images, normalised; null where the run has none. */
        EvaluationSet evaluation();

        String[] classNames();

        /** The kNN baselines on that data (the caller may cache them); NaN where unknown. */
        Html.Baselines baselines(Path outDir, EvaluationSet set);
    }

    private final Data data;
    private final int mapPoints;
    private final Tsne tsne;
    private EvaluationSet set;
    private boolean setLoaded;
    private final Map<Path, Html.Baselines> baselines = new HashMap<>();
    private final Map<String, EmbeddingMap> maps = new HashMap<>();

    public ReportWriter(Data data, int mapPoints, Tsne tsne) {
        this.data = data;
        this.mapPoints = mapPoints;
        this.tsne = tsne;
    }

    /** Writes the page(s) for {@code outDir}; returns the top page. */
    public synchronized Path write(Path outDir) throws IOException {
        Instant now = Instant.now();
        if (RunData.isRun(outDir)) {
            return page(outDir, run(outDir, now).html());
        }
        List<Path> runs;
        try (Stream<Path> children = Files.list(outDir)) {
            runs = children.filter(Files::isDirectory).filter(RunData::isRun).sorted().toList();
        }
        if (runs.isEmpty()) {
            throw new IllegalArgumentException(outDir + " holds no run: neither steps/ nor reports/, nor sub-folders"
                    + " that have them");
        }
        List<Html.RunSummary> summaries = new ArrayList<>();
        for (Path dir : runs) {
            Page p = run(dir, now);
            page(dir, p.html());
            summaries.add(new Html.RunSummary(p.data(), p.map(), outDir.relativize(dir.resolve(FILE)).toString()));
        }
        return page(outDir, Html.comparison(summaries, baselines(outDir), data.classNames(), now));
    }

    private record Page(RunData data, EmbeddingMap map, String html) {}

    private Page run(Path dir, Instant now) {
        RunData run = RunData.read(dir);
        EmbeddingMap map = null;
        String note = null;
        EvaluationSet eval = evaluation();
        if (eval == null) {
            note = "No evaluation data for this run's dataset: no map.";
        } else if (run.latestVersion() >= 0) {
            String key = dir.toAbsolutePath().normalize() + "@" + run.latestVersion();
            map = maps.get(key);
            if (map == null) {
                Path version = dir.resolve("models").resolve(Long.toString(run.latestVersion()));
                try {
                    EncoderVersion v = CommittedArtifactLoader.read(CommittedArtifactLoader.localFiles(),
                            version.toAbsolutePath().toString(), null);
                    map = EmbeddingMap.compute(v, eval, mapPoints, tsne);
                    maps.put(key, map);
                } catch (ModelVersionRejected | RuntimeException e) {
                    note = "The latest version " + run.latestVersion() + " could not be embedded: " + e.getMessage();
                }
            }
        }
        return new Page(run, map, Html.run(run, baselines(dir), map, data.classNames(), note, now));
    }

    private EvaluationSet evaluation() {
        if (!setLoaded) {
            set = data.evaluation();
            setLoaded = true;
        }
        return set;
    }

    private Html.Baselines baselines(Path dir) {
        EvaluationSet eval = evaluation();
        if (eval == null) {
            return Html.Baselines.NONE;
        }
        return baselines.computeIfAbsent(dir.toAbsolutePath().normalize(), d -> data.baselines(d, eval));
    }

    private static Path page(Path dir, String html) throws IOException {
        Path target = dir.resolve(FILE);
        Path staged = dir.resolve("." + FILE + ".tmp");
        Files.writeString(staged, html, StandardCharsets.UTF_8);
        Files.move(staged, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return target;
    }
}
