package io.siamstream.bench;

import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.connectors.idx.LabeledImages;
import io.siamstream.connectors.model.ModelArtifactSink;
import io.siamstream.connectors.model.ModelArtifacts;
import io.siamstream.job.EmbedSettings;
import io.siamstream.job.ExportSettings;
import io.siamstream.job.FaultTolerance;
import io.siamstream.job.JobSettings;
import io.siamstream.job.JobSinks;
import io.siamstream.job.SiamstreamJob;
import io.siamstream.job.SiamstreamOptions;
import io.siamstream.record.ImageRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.source.SourceFunction;

/**
 * Publication latency of the real job (training, the model artifact sink, the embedding operator, the exactly-once
 * file sinks; RocksDB, checkpoints every 10 s that turn unaligned after 2 s of alignment, all as
 * {@link FaultTolerance} sets them, on a local MiniCluster): for every published version, from its training step
 * ({@code wall_time_ms} in its model.json, stamped by the trainer when it publishes) to the version directory
 * appearing under {@code models/} (committed), to the first committed embedding with that version appearing under
 * {@code embeddings/} (a finished part file, the name not starting with '.', as a downstream reader of the file sink
 * sees it).
 *
 * <p>A watcher thread in this JVM polls both folders and stamps when each version first shows up in each; the
 * trainer's stamp comes from the same clock. The embedding input is an endless stream of the bundled Fashion-MNIST
 * test images at a fixed rate ({@link PacedImages}), so that a version's first embedding waits for the version, not
 * for an image. Evaluation is off, so that the two shared cores go to training and embedding.
 *
 * <p>Usage: {@code PublicationLatencyBenchmark [--out DIR] [--versions 25] [--minutes 10] [--publish-every 20]
 * [--batch 32] [--checkpoint-interval 10s] [--rate 50] [--encoder convnet|resnet18_cifar] [--markdown FILE]}; stops
 * when {@code versions} versions have their first committed embedding, or after {@code minutes}. With
 * {@code resnet18_cifar} (the paper's heads, on the job's 1 x 28 x 28 views) the trainer is far slower than its
 * input, so its checkpoints wait for alignment and turn unaligned, and each version is a 45-MB artifact.
 */
public final class PublicationLatencyBenchmark {

    private static final Pattern WALL_TIME = Pattern.compile("\"wall_time_ms\"\\s*:\\s*(\\d+)");
    private static final Pattern STEP = Pattern.compile("\"step\"\\s*:\\s*(\\d+)");
    private static final Pattern EMBEDDING_VERSION = Pattern.compile("\"model_version\":(\\d+)");

    private PublicationLatencyBenchmark() {}

    /** What the watcher saw of one version; times in epoch milliseconds, 0 where not (yet) seen. */
    static final class Stamps {
        long step;
        long stepTime;
        volatile long visible;
        volatile long firstEmbedding;
    }

    /**
     * Images to embed, endlessly, at {@code perSecond}: the bundled test split over and over, each occurrence with its
     * own id. A legacy source is enough here: the benchmark needs no exactly-once replay of its input.
     */
    public static final class PacedImages implements SourceFunction<ImageRecord> {
        private static final long serialVersionUID = 1L;
        private final double perSecond;
        private volatile boolean running = true;

        public PacedImages(double perSecond) {
            this.perSecond = perSecond;
        }

        @Override
        public void run(SourceContext<ImageRecord> ctx) throws Exception {
            LabeledImages images = FashionMnist.sample(FashionMnist.Split.TEST);
            int per = images.rows() * images.cols();
            long start = System.nanoTime();
            long seq = 0;
            while (running) {
                long due = start + (long) (seq * 1e9 / perSecond);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                int i = (int) (seq % images.count());
                byte[] pixels = Arrays.copyOfRange(images.pixels(), i * per, (i + 1) * per);
                synchronized (ctx.getCheckpointLock()) {
                    ctx.collect(new ImageRecord(seq, seq, seq / images.count(), 1, images.rows(), images.cols(),
                            pixels, images.labels()[i] & 0xff));
                }
                seq++;
            }
        }

        @Override
        public void cancel() {
            running = false;
        }
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of("target", "publication-latency");
        int versions = 25;
        double minutes = 10;
        int publishEvery = 20;
        int batch = 32;
        Duration interval = Duration.ofSeconds(10);
        double rate = 50;
        String encoder = "convnet";
        Path markdown = null;
        for (int i = 0; i < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--out" -> out = Path.of(v);
                case "--versions" -> versions = Integer.parseInt(v);
                case "--minutes" -> minutes = Double.parseDouble(v);
                case "--publish-every" -> publishEvery = Integer.parseInt(v);
                case "--batch" -> batch = Integer.parseInt(v);
                case "--checkpoint-interval" -> interval = org.apache.flink.util.TimeUtils.parseDuration(v);
                case "--rate" -> rate = Double.parseDouble(v);
                case "--encoder" -> encoder = v;
                case "--markdown" -> markdown = Path.of(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        out = out.toAbsolutePath();
        deleteRecursively(out);
        Files.createDirectories(out);

        Configuration options = new Configuration();
        options.set(SiamstreamOptions.ENCODER, encoder);
        options.set(SiamstreamOptions.BATCH_SIZE, batch);
        options.set(SiamstreamOptions.EPOCHS, 0L);                      // endless replay of the bundled train sample
        options.set(SiamstreamOptions.PUBLISH_EVERY, publishEvery);
        options.set(SiamstreamOptions.LINEAR_EVERY, 0);
        options.set(SiamstreamOptions.DEVICE, "cpu");
        options.set(SiamstreamOptions.OUTPUT, out.toString());
        options.set(SiamstreamOptions.EXPORT_KEEP_LAST, 100_000);       // retention must not race the watcher
        // the embedding options are validated as for a replay source; the images come from PacedImages below
        options.setString(SiamstreamOptions.EMBED_SOURCE.key(), "replay");
        JobSettings settings = JobSettings.from(options);
        ModelArtifactSink artifacts = ExportSettings.from(options, settings);
        EmbedSettings embed = EmbedSettings.from(options, settings, true);

        Configuration flink = new Configuration();
        flink.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, interval);
        // the job's default pause (10 s, made for its 1-minute interval) would stretch a 10-s interval to 10 s plus
        // the checkpoint's duration
        flink.set(CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS, Duration.ZERO);
        flink.setString("pipeline.generic-types", "false");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        env.setParallelism(1);
        Map<String, String> applied = FaultTolerance.apply(env, out.toString());
        env.getConfig().disableGenericTypes();

        DataStream<ImageRecord> toEmbed = env.addSource(new PacedImages(rate), "paced images",
                TypeInformation.of(ImageRecord.class)).uid("paced-images").setParallelism(1);
        SiamstreamJob.build(settings, SiamstreamJob.replaySource(env, settings),
                JobSinks.files(out.toString(), artifacts, true), null, toEmbed, embed);

        Path models = out.resolve("models");
        Path embeddings = out.resolve("embeddings");
        ConcurrentSkipListMap<Long, Stamps> stamps = new ConcurrentSkipListMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        Set<Path> read = new HashSet<>();
        // completed checkpoints (chk-N/_metadata written), by N: the commits both folders wait for
        ConcurrentSkipListMap<Long, Long> checkpoints = new ConcurrentSkipListMap<>();
        Path checkpointDir = out.resolve("checkpoints");
        Thread watcher = new Thread(() -> {
            while (!stop.get()) {
                poll(models, embeddings, stamps, read);
                pollCheckpoints(checkpointDir, checkpoints);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "publication-watcher");
        watcher.setDaemon(true);

        System.err.printf(Locale.ROOT, "publication-latency: convnet, batch %d, a version every %d steps, checkpoints"
                        + " every %s, %.0f images/s to embed, until %d versions have an embedding or %.1f min; %s%n",
                batch, publishEvery, interval, rate, versions, minutes, applied);
        String loadBefore = loadAverage();
        BenchProbes.Load load = BenchProbes.Load.start();
        long t0 = System.currentTimeMillis();
        JobClient job = env.executeAsync("siamstream publication latency");
        watcher.start();
        long deadline = t0 + (long) (minutes * 60_000);
        int reported = 0;
        while (System.currentTimeMillis() < deadline) {
            Thread.sleep(1000);
            long done = stamps.values().stream().filter(s -> s.firstEmbedding > 0).count();
            if (done >= reported + 5) {
                reported = (int) done;
                System.err.printf(Locale.ROOT, "publication-latency: %.0f s, %d versions committed, %d embedded%n",
                        (System.currentTimeMillis() - t0) / 1e3,
                        stamps.values().stream().filter(s -> s.visible > 0).count(), done);
            }
            if (done >= versions || job.getJobStatus().get().isGloballyTerminalState()) {
                break;
            }
        }
        double elapsed = (System.currentTimeMillis() - t0) / 1e3;
        String status = job.getJobStatus().get().name();
        stop.set(true);
        watcher.join();
        double otherLoad = load.foreignShare() * 100;
        if (!job.getJobStatus().get().isGloballyTerminalState()) {
            job.cancel().get();
        }

        List<long[]> rows = new ArrayList<>();
        List<Double> toVisible = new ArrayList<>();
        List<Double> toEmbedding = new ArrayList<>();
        List<Double> total = new ArrayList<>();
        int visibleOnly = 0;
        StringBuilder perVersion = new StringBuilder();
        for (var e : stamps.entrySet()) {
            Stamps s = e.getValue();
            if (s.visible == 0) {
                continue;
            }
            String a = String.format(Locale.ROOT, "%.2f", (s.visible - s.stepTime) / 1e3);
            String b = "";
            String c = "";
            if (s.firstEmbedding > 0) {
                toVisible.add((s.visible - s.stepTime) / 1e3);
                toEmbedding.add((s.firstEmbedding - s.visible) / 1e3);
                total.add((s.firstEmbedding - s.stepTime) / 1e3);
                b = String.format(Locale.ROOT, "%.2f", (s.firstEmbedding - s.visible) / 1e3);
                c = String.format(Locale.ROOT, "%.2f", (s.firstEmbedding - s.stepTime) / 1e3);
            } else {
                visibleOnly++;
            }
            perVersion.append(String.format(Locale.ROOT, "| %d | %.1f | %s | %s | %s |%n", e.getKey(),
                    (s.stepTime - t0) / 1e3, a, b, c));
            rows.add(new long[] {e.getKey(), s.stepTime, s.visible, s.firstEmbedding});
        }
        String summary = String.format(Locale.ROOT,
                "| step -> artifact visible | %s |%n| artifact -> first committed embedding | %s |%n"
                        + "| step -> first committed embedding | %s |%n",
                percentiles(toVisible), percentiles(toEmbedding), percentiles(total));
        List<Double> gaps = new ArrayList<>();
        Long previous = null;
        for (long t : checkpoints.values()) {
            if (previous != null) {
                gaps.add((t - previous) / 1e3);
            }
            previous = t;
        }
        String header = String.format(Locale.ROOT,
                "%.0f s run (job %s at the end), %d versions committed, %d of them with an embedding (the others were"
                        + " superseded in the same checkpoint before the embedder switched to them: it always takes the"
                        + " newest committed one); %d checkpoints completed, time between completions (s): %s"
                        + " (n | p50 | p95 | min | max); training: %.2f steps/s; CPU used by other processes: %.0f%%"
                        + " of the machine; load average before: %s, after: %s.",
                elapsed, status, rows.size(), total.size(), checkpoints.size(), percentiles(gaps),
                stepsPerSecond(stamps), otherLoad, loadBefore, loadAverage());
        System.out.println(header);
        System.out.println("| latency (s) | n | p50 | p95 | min | max |");
        System.out.print(summary);
        if (markdown != null) {
            Files.writeString(markdown, "HEADER " + header + "\n" + summary.lines().map(l -> "SUMMARY " + l + "\n")
                            .reduce("", String::concat)
                            + perVersion.toString().lines().map(l -> "VERSION " + l + "\n").reduce("", String::concat),
                    StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
        }
        System.exit(total.size() == 0 ? 1 : 0);  // the MiniCluster's non-daemon threads would keep the JVM alive
    }

    /** One pass over both folders: stamps the versions seen for the first time. */
    private static void poll(Path models, Path embeddings, Map<Long, Stamps> stamps, Set<Path> read) {
        long now = System.currentTimeMillis();
        try (Stream<Path> dirs = Files.exists(models) ? Files.list(models) : Stream.empty()) {
            for (Path dir : dirs.toList()) {
                long v = ModelArtifacts.versionOf(dir.getFileName().toString());
                if (v < 0 || stamps.containsKey(v)) {
                    continue;
                }
                // a committed version folder is complete when it appears (renamed into place as a whole)
                String json = Files.readString(dir.resolve(ModelArtifacts.MODEL_JSON));
                Stamps s = new Stamps();
                s.stepTime = Long.parseLong(group(WALL_TIME, json));
                s.step = Long.parseLong(group(STEP, json));
                s.visible = now;
                stamps.put(v, s);
            }
        } catch (IOException | RuntimeException e) {
            // a folder renamed or removed under the listing: the next pass sees it
        }
        now = System.currentTimeMillis();
        try (Stream<Path> all = Files.exists(embeddings) ? Files.walk(embeddings) : Stream.empty()) {
            for (Path f : all.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
                if (!read.add(f)) {
                    continue;  // a committed part file never changes
                }
                Matcher m = EMBEDDING_VERSION.matcher(Files.readString(f));
                while (m.find()) {
                    Stamps s = stamps.get(Long.parseLong(m.group(1)));
                    if (s == null) {
                        // cannot happen while embeddings follow committed versions: the model listing came first
                        System.err.println("publication-latency: an embedding of version " + m.group(1)
                                + " before its artifact was seen");
                        continue;
                    }
                    if (s.firstEmbedding == 0) {
                        s.firstEmbedding = now;
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // a part file renamed under the walk: the next pass sees it
        }
    }

    /** Stamps each checkpoint when its _metadata appears (the checkpoint is then complete). */
    private static void pollCheckpoints(Path dir, Map<Long, Long> completed) {
        long now = System.currentTimeMillis();
        try (Stream<Path> all = Files.exists(dir) ? Files.walk(dir, 2) : Stream.empty()) {
            for (Path chk : all.filter(p -> p.getFileName().toString().startsWith("chk-")).toList()) {
                long n = Long.parseLong(chk.getFileName().toString().substring(4));
                if (!completed.containsKey(n) && Files.exists(chk.resolve("_metadata"))) {
                    completed.put(n, now);
                }
            }
        } catch (IOException | RuntimeException e) {
            // a subsumed checkpoint deleted under the walk: the next pass sees the rest
        }
    }

    /** Training steps per second between the first and the last committed version. */
    private static double stepsPerSecond(Map<Long, Stamps> stamps) {
        Stamps first = null;
        Stamps last = null;
        for (Stamps s : stamps.values()) {
            if (first == null) {
                first = s;
            }
            last = s;
        }
        return first == null || last.stepTime == first.stepTime ? Double.NaN
                : (last.step - first.step) * 1e3 / (last.stepTime - first.stepTime);
    }

    private static String group(Pattern p, String text) {
        Matcher m = p.matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("no " + p + " in " + text);
        }
        return m.group(1);
    }

    /** n | p50 | p95 | min | max (nearest rank), seconds. */
    private static String percentiles(List<Double> values) {
        if (values.isEmpty()) {
            return "0 | | | | ";
        }
        double[] s = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return String.format(Locale.ROOT, "%d | %.2f | %.2f | %.2f | %.2f", s.length, rank(s, 0.50), rank(s, 0.95),
                s[0], s[s.length - 1]);
    }

    private static double rank(double[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> all = Files.walk(p)) {
            for (Path q : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
