package io.siamstream.report;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The report as one self-contained HTML page: inline CSS, inline SVG charts and one small inline script (tooltips),
 * no network access. {@link #run} is the page of one run, {@link #comparison} the side-by-side page of several.
 */
public final class Html {

    /** The kNN baselines of the run's data: raw pixels and the untrained encoder; NaN where not known. */
    public record Baselines(double rawPixelKnn, double untrainedEncoderKnn) {
        public static final Baselines NONE = new Baselines(Double.NaN, Double.NaN);
    }

    /** One run on the comparison page: its data, its map (or null) and the link to its own page. */
    public record RunSummary(RunData run, EmbeddingMap map, String link) {}

    private static final String STYLE = """
            body{font:14px/1.4 system-ui,sans-serif;margin:20px auto;max-width:1560px;color:#222;background:#fff}
            h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 6px;border-bottom:1px solid #ddd}
            .summary{color:#555}.grid{display:flex;flex-wrap:wrap;gap:14px}
            figure{margin:0;border:1px solid #e4e4e4;padding:6px;background:#fff}
            figcaption{font-weight:600;margin-bottom:2px}.note{color:#666;font-size:12px;max-width:480px}
            svg text{font:11px system-ui,sans-serif;fill:#333}svg .tick{fill:#666}
            table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
            th:first-child,td:first-child{text-align:left}
            .neighbours td{border:none;padding:1px;text-align:center;font-size:11px}
            .neighbours img{width:42px;height:42px;image-rendering:pixelated;display:block}
            .neighbours .query img{outline:2px solid #333}.miss img{outline:2px solid #e15759}
            #tooltip{position:fixed;pointer-events:none;background:#222;color:#fff;padding:2px 6px;font-size:12px;
            border-radius:3px;display:none;z-index:10}
            """;

    private static final String SCRIPT = """
            (function () {
              var tip = document.getElementById('tooltip');
              document.addEventListener('mousemove', function (e) {
                var t = e.target.closest ? e.target.closest('[data-tip]') : null;
                if (!t) { tip.style.display = 'none'; return; }
                tip.textContent = t.getAttribute('data-tip');
                tip.style.left = (e.clientX + 12) + 'px';
                tip.style.top = (e.clientY + 12) + 'px';
                tip.style.display = 'block';
              });
            })();
            """;

    private Html() {}

    public static String run(RunData run, Baselines baselines, EmbeddingMap map, String[] classNames, String mapNote,
                             Instant generated) {
        StringBuilder b = head("siamstream report: " + run.name());
        b.append("<h1>siamstream report: ").append(escape(run.name())).append("</h1>");
        b.append("<p class=\"summary\">").append(escape(summary(run))).append(" Generated ")
                .append(time(generated)).append(" from ").append(escape(run.dir().toString())).append(".</p>");

        b.append("<h2>Training</h2><div class=\"grid\">");
        double[] steps = run.steps().stream().mapToDouble(RunData.Step::step).toArray();
        double healthy = firstFinite(run.steps().stream().mapToDouble(RunData.Step::healthyStd).toArray());
        figure(b, "Loss", Svg.lineChart("loss", "step", List.of(series("loss", 0, steps,
                run.steps().stream().mapToDouble(RunData.Step::loss).toArray())), List.of()), null);
        figure(b, "Learning rate", Svg.lineChart("lr", "step", List.of(series("lr", 1, steps,
                run.steps().stream().mapToDouble(RunData.Step::lr).toArray())), List.of()), null);
        figure(b, "Projection std (z) against its healthy value", Svg.lineChart("projection-std", "step",
                List.of(series("projection std", 0, steps,
                        run.steps().stream().mapToDouble(RunData.Step::projectionStd).toArray())),
                List.of(healthyLine(healthy))), "Std over the batch of the l2-normalised projection, per dimension;"
                + " healthy = 1/sqrt(dim), collapse = 0.");
        figure(b, "Output std (p) against its healthy value", Svg.lineChart("output-std", "step",
                List.of(series("output std", 2, steps,
                        run.steps().stream().mapToDouble(RunData.Step::outputStd).toArray())),
                List.of(healthyLine(healthy))), "The same of the online output the loss compares: where SimSiam's"
                + " collapse shows.");
        b.append("</div>");

        b.append("<h2>Evaluation</h2><div class=\"grid\">");
        double[] versions = run.evaluations().stream().mapToDouble(RunData.Evaluation::version).toArray();
        double[] linear = run.evaluations().stream().mapToDouble(RunData.Evaluation::linearTop1).toArray();
        List<Svg.Series> accuracy = new ArrayList<>();
        accuracy.add(series("kNN top-1", 0, versions,
                run.evaluations().stream().mapToDouble(RunData.Evaluation::knnTop1).toArray()));
        accuracy.add(series("linear probe top-1", 1, versions, linear));
        figure(b, "Accuracy over model versions", Svg.lineChart("accuracy", "model version", accuracy, List.of(
                new Svg.Reference("raw-pixel kNN", "#555", baselines.rawPixelKnn()),
                new Svg.Reference("untrained-encoder kNN", "#b07aa1", baselines.untrainedEncoderKnn()))),
                "kNN (k=200, T=0.1, cosine) and the linear probe of the frozen encoder, test split against train split;"
                        + " the linear probe runs on every few evaluations only.");
        figure(b, "Feature std against its healthy value", Svg.lineChart("feature-std", "model version",
                List.of(series("feature std", 4, versions,
                        run.evaluations().stream().mapToDouble(RunData.Evaluation::featureStd).toArray())),
                List.of(healthyLine(firstFinite(run.evaluations().stream()
                        .mapToDouble(RunData.Evaluation::healthyFeatureStd).toArray())))),
                "Std of the l2-normalised encoder features over the evaluation queries.");
        b.append("</div>");

        b.append("<h2>Throughput and checkpoints</h2><div class=\"grid\">");
        figure(b, "Pairs per second", Svg.lineChart("pairs-per-second", "step", List.of(series("pairs/s", 3, steps,
                run.steps().stream().mapToDouble(RunData.Step::pairsPerSecond).toArray())), List.of()), null);
        double[] ids = run.checkpoints().stream().mapToDouble(RunData.Checkpoint::id).toArray();
        figure(b, "Checkpoint duration (end to end, ms)", Svg.lineChart("checkpoint-duration", "checkpoint",
                List.of(series("duration ms", 5, ids,
                        run.checkpoints().stream().mapToDouble(RunData.Checkpoint::durationMs).toArray())), List.of()),
                run.checkpoints().isEmpty() ? "No checkpoints recorded: " + RunData.CHECKPOINTS_FILE
                        + " is written by the embedded demo from Flink's checkpoint statistics."
                        : "From Flink's checkpoint statistics, as the demo recorded them in " + RunData.CHECKPOINTS_FILE + ".");
        b.append("</div>");

        b.append("<h2>Dead letters</h2>");
        if (run.deadLettersByReason().isEmpty()) {
            b.append("<p id=\"dead-letters-none\">None.</p>");
        } else {
            b.append("<div class=\"grid\">");
            figure(b, "Dead letters by reason (" + run.deadLetterCount() + ")",
                    Svg.barChart("dead-letters", run.deadLettersByReason()), null);
            b.append("</div>");
        }

        b.append("<h2>Embeddings of the latest version</h2>");
        if (map == null) {
            b.append("<p id=\"map-none\">").append(escape(mapNote == null ? "No committed model version yet." : mapNote))
                    .append("</p>");
        } else {
            maps(b, map, classNames, "");
            grid(b, map, classNames);
        }
        return tail(b);
    }

    public static String comparison(List<RunSummary> runs, Baselines baselines, String[] classNames, Instant generated) {
        StringBuilder b = head("siamstream method comparison");
        b.append("<h1>siamstream: the methods side by side</h1><p class=\"summary\">").append(runs.size())
                .append(" runs. Generated ").append(time(generated)).append(".</p>");
        b.append("<table id=\"runs\"><tr><th>run</th><th>steps</th><th>final loss</th><th>output std</th>"
                + "<th>kNN top-1</th><th>linear top-1</th><th>pairs/s (median)</th><th>dead letters</th></tr>");
        for (RunSummary r : runs) {
            RunData d = r.run();
            RunData.Step last = d.steps().isEmpty() ? null : d.steps().get(d.steps().size() - 1);
            RunData.Evaluation eval = d.evaluations().isEmpty() ? null : d.evaluations().get(d.evaluations().size() - 1);
            double linear = Double.NaN;
            for (RunData.Evaluation e : d.evaluations()) {
                if (Double.isFinite(e.linearTop1())) {
                    linear = e.linearTop1();
                }
            }
            b.append("<tr><td><a href=\"").append(escape(r.link())).append("\">").append(escape(d.name()))
                    .append("</a></td><td>").append(last == null ? "-" : last.step()).append("</td><td>")
                    .append(last == null ? "-" : Svg.number(last.loss())).append("</td><td>")
                    .append(last == null ? "-" : Svg.number(last.outputStd())).append("</td><td>")
                    .append(eval == null ? "-" : Svg.number(eval.knnTop1())).append("</td><td>")
                    .append(Double.isFinite(linear) ? Svg.number(linear) : "-").append("</td><td>")
                    .append(Svg.number(median(d.steps().stream().mapToDouble(RunData.Step::pairsPerSecond).toArray())))
                    .append("</td><td>").append(d.deadLetterCount()).append("</td></tr>");
        }
        b.append("</table>");
        List<Svg.Series> loss = new ArrayList<>();
        List<Svg.Series> output = new ArrayList<>();
        List<Svg.Series> knn = new ArrayList<>();
        List<Svg.Series> pairs = new ArrayList<>();
        double healthy = Double.NaN;
        for (int i = 0; i < runs.size(); i++) {
            RunData d = runs.get(i).run();
            double[] steps = d.steps().stream().mapToDouble(RunData.Step::step).toArray();
            loss.add(series(d.name(), i, steps, d.steps().stream().mapToDouble(RunData.Step::loss).toArray()));
            output.add(series(d.name(), i, steps, d.steps().stream().mapToDouble(RunData.Step::outputStd).toArray()));
            pairs.add(series(d.name(), i, steps, d.steps().stream().mapToDouble(RunData.Step::pairsPerSecond).toArray()));
            knn.add(series(d.name(), i, d.evaluations().stream().mapToDouble(RunData.Evaluation::version).toArray(),
                    d.evaluations().stream().mapToDouble(RunData.Evaluation::knnTop1).toArray()));
            if (!Double.isFinite(healthy)) {
                healthy = firstFinite(d.steps().stream().mapToDouble(RunData.Step::healthyStd).toArray());
            }
        }
        b.append("<h2>Curves</h2><div class=\"grid\">");
        figure(b, "Loss (each method its own loss)", Svg.lineChart("compare-loss", "step", loss, List.of()), null);
        figure(b, "Output std against its healthy value", Svg.lineChart("compare-output-std", "step", output,
                List.of(healthyLine(healthy))), null);
        figure(b, "kNN top-1 over model versions", Svg.lineChart("compare-knn", "model version", knn, List.of(
                new Svg.Reference("raw-pixel kNN", "#555", baselines.rawPixelKnn()),
                new Svg.Reference("untrained-encoder kNN", "#b07aa1", baselines.untrainedEncoderKnn()))), null);
        figure(b, "Pairs per second", Svg.lineChart("compare-pairs-per-second", "step", pairs, List.of()), null);
        b.append("</div><h2>t-SNE maps of the latest versions</h2><div class=\"grid\">");
        for (RunSummary r : runs) {
            if (r.map() != null) {
                figure(b, r.run().name() + " (version " + r.map().version() + ")", Svg.scatter("tsne-" + id(r.run().name()),
                        r.map().tsne(), r.map().labels(), classNames, tips(r.map(), classNames)), null);
            }
        }
        b.append("</div>");
        return tail(b);
    }

    private static void maps(StringBuilder b, EmbeddingMap map, String[] classNames, String prefix) {
        String[] tips = tips(map, classNames);
        String of = map.points() == map.queries() ? "all " + map.points() + " test images"
                : "the first " + map.points() + " of " + map.queries() + " test images";
        b.append("<p class=\"note\">Model version ").append(map.version()).append(": ").append(of)
                .append(", features l2-normalised.</p><div class=\"grid\">");
        figure(b, "PCA", Svg.scatter(prefix + "map-pca", map.pca(), map.labels(), classNames, tips), null);
        figure(b, "t-SNE (perplexity 30, exact)", Svg.scatter(prefix + "map-tsne", map.tsne(), map.labels(), classNames,
                tips), null);
        b.append("</div>");
    }

    private static void grid(StringBuilder b, EmbeddingMap map, String[] classNames) {
        b.append("<h2>Nearest train images (cosine) of a few test images</h2><table class=\"neighbours\" id=\"neighbours\">");
        b.append("<tr><td>test image</td><td colspan=\"").append(EmbeddingMap.NEIGHBOURS)
                .append("\">its ").append(EmbeddingMap.NEIGHBOURS).append(" nearest train images, nearest first"
                        + " (red outline: another class)</td></tr>");
        for (EmbeddingMap.NeighbourRow row : map.grid()) {
            b.append("<tr><td class=\"query\"><img alt=\"test image ").append(row.query()).append("\" src=\"")
                    .append(row.png()).append("\" data-tip=\"").append(escape(name(classNames, row.label())))
                    .append("\"></td>");
            for (int k = 0; k < row.neighbours().length; k++) {
                boolean miss = row.neighbourLabels()[k] != row.label();
                b.append("<td").append(miss ? " class=\"miss\"" : "").append("><img alt=\"train image ")
                        .append(row.neighbours()[k]).append("\" src=\"").append(row.neighbourPngs()[k])
                        .append("\" data-tip=\"").append(escape(name(classNames, row.neighbourLabels()[k])))
                        .append("\"></td>");
            }
            b.append("</tr>");
        }
        b.append("</table>");
    }

    private static String[] tips(EmbeddingMap map, String[] classNames) {
        String[] tips = new String[map.points()];
        for (int i = 0; i < tips.length; i++) {
            tips[i] = name(classNames, map.labels()[i]) + ", test image " + i;
        }
        return tips;
    }

    private static String name(String[] classNames, int label) {
        return label >= 0 && label < classNames.length ? classNames[label] : "class " + label;
    }

    private static String summary(RunData run) {
        StringBuilder s = new StringBuilder();
        s.append(run.steps().size()).append(" committed steps");
        if (!run.steps().isEmpty()) {
            s.append(" (last ").append(run.steps().get(run.steps().size() - 1).step()).append(")");
        }
        s.append(", ").append(run.evaluations().size()).append(" evaluations");
        if (!run.evaluations().isEmpty()) {
            RunData.Evaluation e = run.evaluations().get(run.evaluations().size() - 1);
            s.append(" (latest: version ").append(e.version()).append(", kNN ").append(Svg.number(e.knnTop1())).append(")");
        }
        s.append(", latest committed model version ").append(run.latestVersion() < 0 ? "none" : run.latestVersion())
                .append(", ").append(run.deadLetterCount()).append(" dead letters, ")
                .append(run.checkpoints().size()).append(" checkpoints recorded.");
        return s.toString();
    }

    private static StringBuilder head(String title) {
        return new StringBuilder("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
                .append(escape(title)).append("</title><style>").append(STYLE).append("</style></head><body>");
    }

    private static String tail(StringBuilder b) {
        return b.append("<div id=\"tooltip\"></div><script>").append(SCRIPT).append("</script></body></html>\n").toString();
    }

    private static void figure(StringBuilder b, String caption, String svg, String note) {
        b.append("<figure><figcaption>").append(escape(caption)).append("</figcaption>").append(svg);
        if (note != null) {
            b.append("<div class=\"note\">").append(escape(note)).append("</div>");
        }
        b.append("</figure>");
    }

    private static Svg.Series series(String name, int colour, double[] xs, double[] ys) {
        return new Svg.Series(name, Svg.PALETTE[colour % Svg.PALETTE.length], xs, ys);
    }

    private static Svg.Reference healthyLine(double value) {
        return new Svg.Reference("healthy " + (Double.isFinite(value) ? Svg.number(value) : ""), "#59a14f", value);
    }

    private static double firstFinite(double[] values) {
        for (double v : values) {
            if (Double.isFinite(v)) {
                return v;
            }
        }
        return Double.NaN;
    }

    private static double median(double[] values) {
        double[] finite = java.util.Arrays.stream(values).filter(Double::isFinite).sorted().toArray();
        return finite.length == 0 ? Double.NaN : finite[finite.length / 2];
    }

    private static String id(String name) {
        return name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
    }

    private static String time(Instant t) {
        return DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC).format(t);
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
