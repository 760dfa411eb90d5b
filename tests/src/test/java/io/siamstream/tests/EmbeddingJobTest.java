package io.siamstream.tests;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.connectors.idx.LabeledImages;
import io.siamstream.connectors.model.CommittedArtifactLoader;
import io.siamstream.connectors.model.ModelArtifactSink;
import io.siamstream.connectors.model.ModelArtifacts;
import io.siamstream.eval.EncoderVersion;
import io.siamstream.eval.ImageEmbedder;
import io.siamstream.job.EmbedSettings;
import io.siamstream.job.ExportSettings;
import io.siamstream.job.JobSettings;
import io.siamstream.job.JobSinks;
import io.siamstream.job.KafkaSettings;
import io.siamstream.job.SiamstreamJob;
import io.siamstream.job.SiamstreamOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training plus an embedding stream on a MiniCluster with RocksDB: the bundled Fashion-MNIST test split is the
 * catalogue (refresh on), embedded with every committed version, while the trainer publishes every 10 steps. A failure
 * is injected after a version is staged and before the checkpoint that would commit it. Checked on the committed
 * output: every embedding names a version whose artifact was committed before the embedding was (a watcher polls
 * both folders throughout), versions never decrease, every vector is what that version's committed artifact
 * computes for that image (bit for bit where the batch is known), each marked version has the whole catalogue
 * exactly once, and the marker counts it.
 */
class EmbeddingJobTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    private static final int EMBED_BATCH = 64;
    private static final Pattern EMBEDDING = Pattern.compile("^\\{\"id\":(\\d+),\"model_version\":(\\d+),\"vector\":\\[([^\\]]*)\\]\\}$");
    private static final Pattern VERSION = Pattern.compile("^\\{\"id\":\\d+,\"model_version\":(\\d+),");
    private static final Pattern MARKER = Pattern.compile("\"model_version\":(\\d+),\"count\":(\\d+),\"part\":(\\d+),\"parts\":(\\d+)");

    record Line(long id, long version, float[] vector) {}

    @Test
    void embeddingsFollowTheCommittedVersionsThroughAFailure(@TempDir(cleanup = CleanupMode.NEVER) Path tmp,
                                                             @InjectMiniCluster MiniCluster cluster) throws Exception {
        try {
            run(tmp, cluster);
        } finally {
            CheckpointedEnvironment.awaitCheckpointsDiscarded(tmp);
        }
    }

    private static void run(Path tmp, MiniCluster cluster) throws Exception {
        Configuration conf = new Configuration();
        // two epochs: a version gets a set only if it is in use when the catalogue input ends or is switched to after
        // that, and after the injected failure the next set took most of one epoch; a second epoch leaves room for
        // more (still a race in principle: a much faster trainer or a slower embedder would narrow it)
        conf.set(SiamstreamOptions.EPOCHS, 2L);
        conf.set(SiamstreamOptions.BATCH_SIZE, 32);
        conf.set(SiamstreamOptions.PUBLISH_EVERY, 10);
        conf.set(SiamstreamOptions.SCHEDULE_STEPS, 200L);
        conf.set(SiamstreamOptions.DEVICE, "cpu");
        conf.set(SiamstreamOptions.OUTPUT, tmp.toString());
        conf.set(SiamstreamOptions.EXPORT_KEEP_LAST, 1000);
        conf.setString(SiamstreamOptions.EMBED_SOURCE.key(), "replay");
        conf.set(SiamstreamOptions.EMBED_SPLIT, "test");
        conf.set(SiamstreamOptions.EMBED_REFRESH, true);
        conf.set(SiamstreamOptions.EMBED_BATCH_SIZE, EMBED_BATCH);
        JobSettings settings = JobSettings.from(conf);
        var spec = ExportSettings.from(conf, settings).spec();
        ModelArtifactJobTest.FAILED.set(false);
        ModelArtifactSink artifacts = new ModelArtifactJobTest.FailingOnceSink(spec);
        EmbedSettings embed = EmbedSettings.from(conf, settings, true);
        Path models = tmp.resolve("models");

        StreamExecutionEnvironment env = CheckpointedEnvironment.environment(
                CheckpointedEnvironment.configuration(tmp, Duration.ofMillis(300)));
        JobSinks sinks = JobSinks.files(tmp.toString(), artifacts, true);
        SiamstreamJob.build(settings, SiamstreamJob.replaySource(env, settings), sinks, null,
                embed.images(env, settings, KafkaSettings.from(conf)), embed);

        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        AtomicBoolean done = new AtomicBoolean();
        Map<Path, Set<Long>> seen = new java.util.HashMap<>();
        Thread watcher = new Thread(() -> {
            while (!done.get()) {
                watch(tmp, seen, violations);
            }
        }, "embeddings-watcher");
        watcher.start();
        long start = System.nanoTime();
        JobID job;
        try {
            var client = env.executeAsync("training and embedding");
            job = client.getJobID();
            client.getJobExecutionResult().get(10, java.util.concurrent.TimeUnit.MINUTES);
        } finally {
            done.set(true);
            watcher.join();
        }
        // the injected failure is the only one: nothing else (e.g. emitting after the end of input) restarted a task
        var graph = cluster.getArchivedExecutionGraph(job).get();
        for (var vertex : graph.getAllExecutionVertices()) {
            assertThat(vertex.getCurrentExecutionAttempt().getAttemptNumber()).as(vertex.getTaskNameWithSubtaskIndex())
                    .isEqualTo(1);
        }
        System.out.printf("embedding job: %.1f s%n", (System.nanoTime() - start) / 1e9);
        assertThat(ModelArtifactJobTest.FAILED.get()).as("the failure was injected").isTrue();
        assertThat(violations).as("embeddings committed before their version's artifact").isEmpty();

        LabeledImages catalogue = FashionMnist.sample(FashionMnist.Split.TEST);
        List<Line> lines = embeddings(tmp.resolve("embeddings"));
        assertThat(lines).isNotEmpty();
        List<Long> committed = ModelArtifactSink.committedVersions(org.apache.flink.core.fs.FileSystem.getLocalFileSystem(),
                new org.apache.flink.core.fs.Path(models.toString()));
        Map<Long, List<Line>> byVersion = new LinkedHashMap<>();
        long previous = -1;
        for (Line l : lines) {
            assertThat(l.version()).as("versions never decrease on one embedder").isGreaterThanOrEqualTo(previous);
            previous = l.version();
            assertThat(committed).as("the version of every embedding is committed").contains(l.version());
            byVersion.computeIfAbsent(l.version(), v -> new ArrayList<>()).add(l);
        }

        // markers: the catalogue once per marked version, the count right
        TreeMap<Long, Long> markers = new TreeMap<>();
        for (String m : CommittedFiles.lines(tmp.resolve("embedding-sets"))) {
            Matcher matcher = MARKER.matcher(m);
            assertThat(matcher.find()).as(m).isTrue();
            assertThat(matcher.group(3) + "/" + matcher.group(4)).isEqualTo("0/1");
            assertThat(markers.put(Long.parseLong(matcher.group(1)), Long.parseLong(matcher.group(2))))
                    .as("one marker per version").isNull();
        }
        assertThat(markers).as("at least two versions' sets").hasSizeGreaterThanOrEqualTo(2);
        Set<Long> allIds = new HashSet<>();
        for (int i = 0; i < catalogue.count(); i++) {
            allIds.add((long) i);
        }
        for (var e : markers.entrySet()) {
            assertThat(e.getValue()).isEqualTo(catalogue.count());
            List<Line> set = byVersion.get(e.getKey());
            assertThat(set).as("version " + e.getKey() + "'s set").hasSize(catalogue.count());
            assertThat(set.stream().map(Line::id).toList()).containsExactlyInAnyOrderElementsOf(allIds);
        }

        // vectors: what the committed artifact computes; bit for bit for the sets re-embedded after the catalogue
        // ended (batches of EMBED_BATCH in the order they were written), within 1e-6 otherwise
        long firstMarked = markers.firstKey();
        int compared = 0;
        for (var e : byVersion.entrySet()) {
            EncoderVersion version = CommittedArtifactLoader.read(CommittedArtifactLoader.localFiles(),
                    models.resolve(String.valueOf(e.getKey())).toString(), null);
            List<Line> set = e.getValue();
            boolean knownBatches = e.getKey() > firstMarked;
            try (ImageEmbedder embedder = new ImageEmbedder(version, Device.cpu())) {
                for (int from = 0; from < set.size(); from += EMBED_BATCH) {
                    List<Line> batch = set.subList(from, Math.min(set.size(), from + EMBED_BATCH));
                    float[][] want = embedder.embed(batch.stream().map(l -> image(catalogue, (int) l.id())).toList());
                    for (int i = 0; i < batch.size(); i++) {
                        float[] got = batch.get(i).vector();
                        if (knownBatches) {
                            assertThat(got).as("version %d image %d, bit for bit", e.getKey(), batch.get(i).id())
                                    .isEqualTo(want[i]);
                        } else {
                            for (int k = 0; k < got.length; k++) {
                                assertThat((double) Math.abs(got[k] - want[i][k])).isLessThanOrEqualTo(1e-6);
                            }
                        }
                        compared++;
                    }
                }
            }
        }
        assertThat(compared).isEqualTo(lines.size());
        assertThat(dead(tmp)).as("no dead letters").isEmpty();
    }

    /**
     * Committed embedding lines in the order the embedder wrote them: part files by the time they were finished
     * (one per checkpoint; a restored writer starts a new name prefix with counter 0), then by their counter.
     */
    static List<Line> embeddings(Path folder) throws Exception {
        List<Path> files;
        try (Stream<Path> all = Files.walk(folder)) {
            files = all.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted(Comparator.comparingLong(EmbeddingJobTest::modified)
                            .thenComparingLong(EmbeddingJobTest::partCounter)).toList();
        }
        List<Line> out = new ArrayList<>();
        for (Path f : files) {
            for (String s : Files.readAllLines(f)) {
                Matcher m = EMBEDDING.matcher(s);
                assertThat(m.matches()).as(s.length() > 200 ? s.substring(0, 200) : s).isTrue();
                String[] parts = m.group(3).split(",");
                float[] v = new float[parts.length];
                for (int i = 0; i < parts.length; i++) {
                    v[i] = Float.parseFloat(parts[i]);
                }
                out.add(new Line(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), v));
            }
        }
        return out;
    }

    static byte[] image(LabeledImages images, int index) {
        int per = images.rows() * images.cols();
        return Arrays.copyOfRange(images.pixels(), index * per, (index + 1) * per);
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** part-<uuid>-<counter>: the counter orders one subtask's files. */
    private static long partCounter(Path p) {
        String name = p.getFileName().toString();
        return Long.parseLong(name.substring(name.lastIndexOf('-') + 1));
    }

    private static List<String> dead(Path tmp) throws Exception {
        return CommittedFiles.lines(tmp.resolve("dead-letters"));
    }

    private static Set<Long> versionsIn(Path file) {
        Set<Long> out = new HashSet<>();
        try {
            for (String s : Files.readAllLines(file)) {
                Matcher m = VERSION.matcher(s);
                if (m.find()) {
                    out.add(Long.parseLong(m.group(1)));
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    /** Every committed embedding's version must be a committed version directory at the moment it is seen. */
    private static void watch(Path tmp, Map<Path, Set<Long>> seen, ConcurrentLinkedQueue<String> violations) {
        try {
            Thread.sleep(50);
            // embeddings first: a version seen in them was committed before they were, so before the listing
            Path folder = tmp.resolve("embeddings");
            if (!Files.exists(folder)) {
                return;
            }
            Set<Long> used = new HashSet<>();
            try (Stream<Path> all = Files.walk(folder)) {
                for (Path f : all.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("."))
                        .toList()) {
                    // a committed part file never changes: read it once
                    used.addAll(seen.computeIfAbsent(f, EmbeddingJobTest::versionsIn));
                }
            }
            Set<Long> versions = new HashSet<>();
            try (Stream<Path> all = Files.list(tmp.resolve("models"))) {
                all.forEach(p -> {
                    long v = ModelArtifacts.versionOf(p.getFileName().toString());
                    if (v >= 0) {
                        versions.add(v);
                    }
                });
            }
            used.removeAll(versions);
            if (!used.isEmpty()) {
                violations.add("embeddings of versions " + used + " are committed, their artifacts are not: " + versions);
            }
        } catch (java.nio.file.NoSuchFileException | java.io.UncheckedIOException ignored) {
            // a file renamed under the walk: look again
        } catch (Exception e) {
            if (!(e.getCause() instanceof java.nio.file.NoSuchFileException)) {
                violations.add("watcher: " + e);
            }
        }
    }

}
