package io.siamstream.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.siamstream.augment.ViewPolicies;
import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.connectors.idx.LabeledImages;
import io.siamstream.connectors.model.ArtifactSpec;
import io.siamstream.connectors.model.ModelArtifacts;
import io.siamstream.eval.EvaluationSet;
import io.siamstream.record.DeadLetter;
import io.siamstream.record.EvalReport;
import io.siamstream.record.ModelUpdate;
import io.siamstream.record.StepMetrics;
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerConfig;
import io.siamstream.train.LearnerStateCodec;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report opened from a file in headless Chromium (Debian's {@code chromium}; skipped where it is not installed):
 * no console message at all, every chart's SVG there with one point per record, the map with one point per embedded
 * test image, a screenshot that is not blank, and the same for the side-by-side page of two runs. The output folders
 * are small fixtures written here (a few dozen records, an untrained model version, 300 test images), not a training
 * run. The counts are read from the browser's SVG DOM ({@code SVGPolylineElement.points}), by a probe script added to
 * a copy of the page before the page's own script, which also records any error event and console.error call.
 */
class ReportBrowserTest {

    private static final int STEPS = 40;
    private static final int QUERIES = 300;
    private static final int BANK = 600;
    private static final long VERSION = 40;

    private static String chromium;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void findChromium() {
        for (String candidate : new String[] {System.getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
            if (candidate != null && Files.isExecutable(Path.of(candidate))) {
                chromium = candidate;
                return;
            }
        }
    }

    @Test
    void aRunsReportRendersEveryChartAndTheMapInChromium() throws Exception {
        assumeTrue(chromium != null, "chromium is not installed (apt-get install chromium)");
        Path run = tmp.resolve("run");
        writeRun(run, "simsiam", 0);
        Path page = writer().write(run);
        assertThat(page).isEqualTo(run.resolve(ReportWriter.FILE));
        RunData data = RunData.read(run);
        assertThat(data.steps()).hasSize(STEPS);   // the in-progress part file (hidden) is not read

        Browser probe = probe(page);
        assertThat(probe.console()).as("console messages").isEmpty();
        assertThat(probe.result().get("errors").getAsJsonArray()).as("error events and console.error calls").isEmpty();
        JsonObject series = probe.result().getAsJsonObject("series");
        assertThat(count(series, "loss/loss")).isEqualTo(STEPS);
        assertThat(count(series, "lr/lr")).isEqualTo(STEPS);
        assertThat(count(series, "projection-std/projection std")).isEqualTo(STEPS);
        assertThat(count(series, "output-std/output std")).isEqualTo(STEPS);
        assertThat(count(series, "pairs-per-second/pairs/s")).isEqualTo(STEPS);
        assertThat(count(series, "accuracy/kNN top-1")).isEqualTo(data.evaluations().size()).isEqualTo(4);
        assertThat(count(series, "accuracy/linear probe top-1")).isEqualTo(2);
        assertThat(count(series, "feature-std/feature std")).isEqualTo(4);
        assertThat(count(series, "checkpoint-duration/duration ms")).isEqualTo(data.checkpoints().size()).isEqualTo(5);
        JsonObject references = probe.result().getAsJsonObject("references");
        assertThat(references.keySet()).contains("projection-std/healthy 0.0625", "output-std/healthy 0.0625",
                "feature-std/healthy 0.0625", "accuracy/raw-pixel kNN", "accuracy/untrained-encoder kNN");
        JsonObject bars = probe.result().getAsJsonObject("bars");
        assertThat(bars.get("dead-letters").getAsInt()).isEqualTo(data.deadLettersByReason().size()).isEqualTo(2);
        JsonObject maps = probe.result().getAsJsonObject("maps");
        assertThat(maps.get("map-pca").getAsInt()).isEqualTo(QUERIES);
        assertThat(maps.get("map-tsne").getAsInt()).isEqualTo(QUERIES);
        assertThat(probe.result().get("rendered").getAsBoolean()).as("every chart has a non-empty box").isTrue();
        assertThat(probe.result().get("images").getAsInt())
                .as("neighbour grid thumbnails, all decoded").isEqualTo(EmbeddingMap.GRID_ROWS * (1 + EmbeddingMap.NEIGHBOURS));

        Screenshot shot = screenshot(page);
        assertThat(shot.console()).as("console messages").isEmpty();
        assertThat(shot.std()).as("pixel std of the screenshot").isGreaterThan(20);
        assertThat(shot.colours()).as("distinct colours").isGreaterThan(50);
    }

    @Test
    void severalRunsGetASideBySidePage() throws Exception {
        assumeTrue(chromium != null, "chromium is not installed (apt-get install chromium)");
        Path out = tmp.resolve("comparison");
        writeRun(out.resolve("byol"), "byol", 1);
        writeRun(out.resolve("simsiam"), "simsiam", 2);
        Path page = writer().write(out);
        assertThat(page).isEqualTo(out.resolve(ReportWriter.FILE));
        assertThat(out.resolve("byol").resolve(ReportWriter.FILE)).exists();
        assertThat(out.resolve("simsiam").resolve(ReportWriter.FILE)).exists();

        Browser probe = probe(page);
        assertThat(probe.console()).isEmpty();
        assertThat(probe.result().get("errors").getAsJsonArray()).isEmpty();
        JsonObject series = probe.result().getAsJsonObject("series");
        for (String method : List.of("byol", "simsiam")) {
            assertThat(count(series, "compare-loss/" + method)).isEqualTo(STEPS);
            assertThat(count(series, "compare-output-std/" + method)).isEqualTo(STEPS);
            assertThat(count(series, "compare-knn/" + method)).isEqualTo(4);
            assertThat(probe.result().getAsJsonObject("maps").get("tsne-" + method).getAsInt()).isEqualTo(QUERIES);
        }
        assertThat(probe.result().get("links").getAsInt()).isEqualTo(2);
    }

    @Test
    void theConsoleCheckSeesAnError() throws Exception {
        assumeTrue(chromium != null, "chromium is not installed (apt-get install chromium)");
        Path bad = tmp.resolve("bad.html");
        Files.writeString(bad, "<!DOCTYPE html><html><body><p>x</p><script>notDefined();</script></body></html>");
        Browser probe = probe(bad);
        assertThat(probe.console()).anyMatch(line -> line.contains("notDefined"));
        assertThat(probe.result().get("errors").getAsJsonArray().toString()).contains("notDefined");
    }

    private static ReportWriter writer() {
        LabeledImages test = FashionMnist.sample(FashionMnist.Split.TEST);
        LabeledImages train = FashionMnist.sample(FashionMnist.Split.TRAIN);
        float mean = ViewPolicies.FASHION_MNIST_MEAN[0];
        float std = ViewPolicies.FASHION_MNIST_STD[0];
        int per = FashionMnist.SIDE * FashionMnist.SIDE;
        EvaluationSet set = new EvaluationSet(Arrays.copyOf(train.normalized(mean, std), BANK * per),
                Arrays.copyOf(train.labelArray(), BANK), Arrays.copyOf(test.normalized(mean, std), QUERIES * per),
                Arrays.copyOf(test.labelArray(), QUERIES), FashionMnist.CLASS_NAMES.length);
        return new ReportWriter(new ReportWriter.Data() {
            @Override
            public EvaluationSet evaluation() {
                return set;
            }

            @Override
            public String[] classNames() {
                return FashionMnist.CLASS_NAMES;
            }

            @Override
            public Html.Baselines baselines(Path outDir, EvaluationSet s) {
                return new Html.Baselines(0.75, 0.62);
            }
        }, QUERIES, new Tsne(30, 250));
    }

    /** A run's output folder as the job leaves it: committed parts, an in-progress part, a committed model version. */
    private static void writeRun(Path run, String method, long seed) throws IOException {
        List<String> steps = new ArrayList<>();
        for (int s = 1; s <= STEPS; s++) {
            StepMetrics m = new StepMetrics();
            m.batch = s - 1;
            m.pairs = 16;
            m.step = s;
            m.loss = -0.9 * (1 - Math.exp(-s / 10.0)) + 0.01 * Math.sin(s + seed);
            m.projectionStd = 0.0625 - 0.002 * Math.cos(s);
            m.outputStd = 0.05 + 0.01 * (1 - Math.exp(-s / 8.0));
            m.healthyStd = 0.0625;
            m.lr = 0.25 * 0.5 * (1 + Math.cos(Math.PI * s / STEPS));
            m.pairsPerSecond = 300 + 40 * Math.sin(s / 3.0 + seed);
            m.stepMillis = 50;
            m.firstSeq = (long) (s - 1) * 16;
            steps.add(m.toString());
        }
        write(run.resolve("steps/2026-01-01--00/part-0-0"), steps.subList(0, 25));
        write(run.resolve("steps/2026-01-01--00/part-0-1"), steps.subList(25, STEPS));
        write(run.resolve("steps/2026-01-01--00/.part-0-2.inprogress.1234"), List.of(steps.get(0).replace("\"step\":1", "\"step\":99")));
        List<String> reports = new ArrayList<>();
        for (int v = 1; v <= 4; v++) {
            EvalReport r = new EvalReport();
            r.version = v * 10;
            r.knnTop1 = 0.6 + 0.02 * v + 0.01 * seed;
            r.linearTop1 = v % 2 == 0 ? 0.78 + 0.01 * v : Double.NaN;
            r.featureStd = 0.03 + 0.001 * v;
            r.healthyFeatureStd = 0.0625;
            reports.add(r.toString());
        }
        write(run.resolve("reports/2026-01-01--00/part-0-0"), reports);
        write(run.resolve("dead-letters/2026-01-01--00/part-0-0"), List.of(
                new DeadLetter("augment-view1", "wrong-size", "27x28", 7, 7).toString(),
                new DeadLetter("pair-views", "pairing-timeout", "no partner within 60 s", 9, 9).toString(),
                new DeadLetter("augment-view2", "wrong-size", "27x28", 7, 7).toString()));
        List<String> checkpoints = new ArrayList<>();
        for (int c = 1; c <= 5; c++) {
            checkpoints.add(new RunData.Checkpoint(c, 1_700_000_000_000L + c * 10_000L, 300 + 50 * c, 1_000_000,
                    5_000_000).toJson());
        }
        write(run.resolve(RunData.CHECKPOINTS_FILE), checkpoints);

        LearnerConfig config = LearnerConfig.smallConvNet(16, 100, 3 + seed);
        ArtifactSpec spec = new ArtifactSpec(config, ViewPolicies.FASHION_MNIST_MEAN.clone(),
                ViewPolicies.FASHION_MNIST_STD.clone(), run.toString(), false, 1, 0, 1);
        ModelUpdate update = new ModelUpdate();
        update.version = VERSION;
        try (Learner learner = Learner.create(config)) {
            update.encoderState = LearnerStateCodec.encode(learner.encoderSnapshot());
            update.fingerprint = config.modelFingerprint();
        }
        ModelArtifacts.Files files = ModelArtifacts.of(spec, update);
        Path version = Files.createDirectories(run.resolve("models/" + VERSION));
        Files.write(version.resolve(ModelArtifacts.ENCODER_FILE), files.encoder());
        String json = new String(files.json().toBytes(), StandardCharsets.UTF_8)
                .replace("\"method\": \"" + config.method().name() + "\"", "\"method\": \"" + method + "\"");
        Files.writeString(version.resolve(ModelArtifacts.MODEL_JSON), json);
        Files.writeString(run.resolve("models/LATEST"), VERSION + "\n");
    }

    private static void write(Path file, List<String> lines) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, lines, StandardCharsets.UTF_8);
    }

    private static int count(JsonObject series, String key) {
        assertThat(series.keySet()).as("chart/series").contains(key);
        return series.get(key).getAsInt();
    }

    /**
     * Reads the page's SVG back from the browser: points per polyline series (chart id / series name), the chart's
     * reference lines, bars per bar chart, points per map, whether every chart has a box, decoded thumbnails, links
     * to run pages, and every error event or console.error.
     */
    private static final String PROBE = """
            <script>
            window.__errors = [];
            window.addEventListener('error', function (e) {
              window.__errors.push(String(e.message || (e.target && (e.target.src || e.target.tagName))));
            }, true);
            (function () {
              var original = console.error;
              console.error = function () { window.__errors.push(Array.prototype.join.call(arguments, ' ')); original.apply(console, arguments); };
            })();
            window.addEventListener('load', function () {
              var out = {series: {}, references: {}, bars: {}, maps: {}, rendered: true, images: 0, links: 0, errors: window.__errors};
              document.querySelectorAll('svg.chart').forEach(function (svg) {
                var box = svg.getBoundingClientRect();
                if (!(box.width > 0 && box.height > 0)) { out.rendered = false; }
                svg.querySelectorAll('polyline.series').forEach(function (p) {
                  out.series[svg.id + '/' + p.getAttribute('data-series')] = p.points.numberOfItems;
                });
                svg.querySelectorAll('line.reference').forEach(function (l) {
                  out.references[svg.id + '/' + l.getAttribute('data-reference')] = l.y1.baseVal.value;
                });
                var bars = svg.querySelectorAll('rect.bar');
                if (bars.length) { out.bars[svg.id] = bars.length; }
                var points = svg.querySelectorAll('circle.map-point');
                if (points.length) { out.maps[svg.id] = points.length; }
              });
              document.querySelectorAll('#neighbours img').forEach(function (img) {
                if (img.complete && img.naturalWidth > 0) { out.images++; }
              });
              document.querySelectorAll('#runs a').forEach(function () { out.links++; });
              var pre = document.createElement('pre');
              pre.id = 'probe';
              pre.textContent = JSON.stringify(out);
              document.body.appendChild(pre);
            });
            </script>
            """;

    private record Browser(JsonObject result, List<String> console) {}

    private record Screenshot(double std, int colours, List<String> console) {}

    private static Browser probe(Path page) throws Exception {
        String html = Files.readString(page);
        int head = html.indexOf("<head>");
        String probed = head >= 0 ? html.substring(0, head + 6) + PROBE + html.substring(head + 6) : PROBE + html;
        Path copy = page.resolveSibling("probe-" + page.getFileName());
        Files.writeString(copy, probed);
        Run r = chromium(List.of("--dump-dom", copy.toUri().toString()));
        Matcher m = Pattern.compile("<pre id=\"probe\">(.*?)</pre>", Pattern.DOTALL).matcher(r.stdout());
        assertThat(m.find()).as("the probe's result in the dumped DOM of " + page).isTrue();
        String json = m.group(1).replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
        return new Browser(JsonParser.parseString(json).getAsJsonObject(), r.console());
    }

    private static Screenshot screenshot(Path page) throws Exception {
        Path png = page.resolveSibling("screenshot.png");
        Run r = chromium(List.of("--hide-scrollbars", "--window-size=1400,2000", "--screenshot=" + png,
                page.toUri().toString()));
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img).as("a PNG screenshot").isNotNull();
        double sum = 0;
        double sumSq = 0;
        java.util.Set<Integer> colours = new java.util.HashSet<>();
        int n = img.getWidth() * img.getHeight();
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y) & 0xffffff;
                colours.add(rgb);
                double grey = ((rgb >> 16 & 0xff) + (rgb >> 8 & 0xff) + (rgb & 0xff)) / 3.0;
                sum += grey;
                sumSq += grey * grey;
            }
        }
        double mean = sum / n;
        return new Screenshot(Math.sqrt(Math.max(0, sumSq / n - mean * mean)), colours.size(), r.console());
    }

    private record Run(String stdout, List<String> console) {}

    /** Runs headless Chromium on its own profile; the console lines are what the page logged (any level). */
    private static Run chromium(List<String> arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of(chromium, "--headless", "--disable-gpu", "--no-sandbox",
                "--no-first-run", "--user-data-dir=" + Files.createTempDirectory(tmp, "profile"),
                "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000"));
        command.addAll(arguments);
        Path stdout = Files.createTempFile(tmp, "chromium", ".out");
        Path stderr = Files.createTempFile(tmp, "chromium", ".err");
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        pb.environment().putAll(Map.of("HOME", tmp.toString()));
        Process p = pb.start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("chromium did not finish in 90 s: " + command);
        }
        List<String> console = Files.readAllLines(stderr).stream().filter(l -> l.contains(":CONSOLE")).toList();
        return new Run(Files.readString(stdout), console);
    }
}
