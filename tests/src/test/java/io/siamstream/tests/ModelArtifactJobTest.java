package io.siamstream.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.siamstream.connectors.model.ArtifactSpec;
import io.siamstream.connectors.model.ModelArtifact;
import io.siamstream.connectors.model.ModelArtifactSink;
import io.siamstream.connectors.model.ModelArtifacts;
import io.siamstream.connectors.model.SafetensorsReader;
import io.siamstream.connectors.model.TorchNames;
import io.siamstream.job.ExportSettings;
import io.siamstream.job.JobSettings;
import io.siamstream.job.JobSinks;
import io.siamstream.job.SiamstreamJob;
import io.siamstream.job.SiamstreamOptions;
import io.siamstream.record.ModelUpdate;
import io.siamstream.train.LearnerState;
import io.siamstream.train.LearnerStateCodec;
import io.siamstream.train.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model artifacts from the job on a MiniCluster: a bounded run publishes every 5 steps; each committed version's
 * encoder.safetensors equals, bit for bit, the encoder of the model update of that version; LATEST names the last
 * one; retention kept the last 3 and every 4th; heads are exported beside; the announcements (exactly-once JSON lines) name each version once.
 * A failure is injected inside the sink's prepareCommit after a version was staged and before the checkpoint that
 * would commit it: a watcher that polls the models folder throughout never sees an incomplete or unannounced
 * version, the staged attempt is never committed, and the recovered job republishes that version.
 */
class ModelArtifactJobTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    private static final int PUBLISH_EVERY = 5;
    private static final long FAIL_AT = 30;
    static final AtomicBoolean FAILED = new AtomicBoolean();
    static final AtomicReference<String> FAILED_STAGING = new AtomicReference<>();
    static final String FAILED_MARK = "FAILED-ATTEMPT";

    /** Throws once, inside prepareCommit, right after staging a version >= FAIL_AT once some version is committed. */
    static final class FailingOnceSink extends ModelArtifactSink {
        private static final long serialVersionUID = 1L;

        FailingOnceSink(ArtifactSpec spec) {
            super(spec);
        }

        @Override
        protected void staged(long version, org.apache.flink.core.fs.Path staging) {
            if (version >= FAIL_AT && Files.exists(Path.of(spec().models(), ModelArtifacts.LATEST))
                    && FAILED.compareAndSet(false, true)) {
                FAILED_STAGING.set(staging.getPath());
                try {
                    // a mark on the failed attempt: no committed version may ever carry it
                    Files.writeString(Path.of(staging.getPath(), FAILED_MARK), "never commit me");
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                throw new IllegalStateException("injected failure after staging version " + version);
            }
        }
    }

    @Test
    void versionsCommitWithCheckpointsAndSurviveAFailure(@TempDir(cleanup = CleanupMode.NEVER) Path tmp) throws Exception {
        try {
            run(tmp);
        } finally {
            deleteQuietly(tmp);
        }
    }

    /** Flink removes subsumed checkpoints asynchronously after the job: retry, and leave what still races. */
    private static void deleteQuietly(Path dir) throws InterruptedException {
        for (int attempt = 0; attempt < 10 && Files.exists(dir); attempt++) {
            try (Stream<Path> all = Files.walk(dir)) {
                all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (Exception ignored) {
                // a file vanished under the walk: try again
            }
            Thread.sleep(100);
        }
    }

    private static void run(Path tmp) throws Exception {
        Configuration conf = new Configuration();
        conf.set(SiamstreamOptions.EPOCHS, 1L);
        conf.set(SiamstreamOptions.BATCH_SIZE, 32);
        conf.set(SiamstreamOptions.PUBLISH_EVERY, PUBLISH_EVERY);
        conf.set(SiamstreamOptions.SCHEDULE_STEPS, 200L);
        conf.set(SiamstreamOptions.DEVICE, "cpu");
        conf.set(SiamstreamOptions.LINEAR_EVERY, 0);
        conf.set(SiamstreamOptions.OUTPUT, tmp.toString());
        conf.set(SiamstreamOptions.EXPORT_KEEP_LAST, 3);
        conf.set(SiamstreamOptions.EXPORT_KEEP_EVERY, 4);
        conf.set(SiamstreamOptions.EXPORT_HEADS, true);
        JobSettings settings = JobSettings.from(conf);
        ModelArtifactSink artifacts = new FailingOnceSink(ExportSettings.from(conf, settings).spec());
        Path models = tmp.resolve("models");
        assertThat(artifacts.spec().models()).isEqualTo(models.toString());
        FAILED.set(false);

        StreamExecutionEnvironment env = CheckpointedEnvironment.environment(
                CheckpointedEnvironment.configuration(tmp, Duration.ofMillis(300)));
        JobSinks files = JobSinks.files(tmp.toString(), artifacts);
        assertThat(files.models()).isNotNull();
        SiamstreamJob.Streams streams = SiamstreamJob.build(settings, SiamstreamJob.replaySource(env, settings), files, null);
        streams.models().sinkTo(TestSinks.collecting("artifact-raw")).name("raw updates").setParallelism(1);

        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        AtomicBoolean done = new AtomicBoolean();
        Thread watcher = new Thread(() -> {
            while (!done.get()) {
                watch(models, violations);
            }
        }, "models-watcher");
        watcher.start();
        long start = System.nanoTime();
        try {
            env.execute("model artifacts");
        } finally {
            done.set(true);
            watcher.join();
        }
        System.out.printf("model artifact job: %.1f s%n", (System.nanoTime() - start) / 1e9);
        assertThat(FAILED.get()).as("the failure was injected").isTrue();
        assertThat(violations).as("what the watcher saw").isEmpty();

        // announcements: committed JSON lines, each version once, naming its final location
        TreeMap<Long, String> announced = new TreeMap<>();
        Pattern p = Pattern.compile("\"version\":(\\d+),.*\"uri\":\"([^\"]+)\",\"sha256\":\"([0-9a-f]{64})\",\"bytes\":(\\d+)");
        for (String line : CommittedFiles.lines(tmp.resolve("model-updates"))) {
            Matcher m = p.matcher(line);
            assertThat(m.find()).as(line).isTrue();
            assertThat(line).contains("\"encoder_bytes\":0");
            long v = Long.parseLong(m.group(1));
            assertThat(announced.put(v, m.group(3))).as("version " + v + " announced twice").isNull();
            assertThat(m.group(2)).endsWith("/models/" + v);
        }
        List<Long> all = new ArrayList<>(announced.keySet());
        long last = all.get(all.size() - 1);
        assertThat(all).as("every 5 steps").allMatch(v -> v % PUBLISH_EVERY == 0 || v == last);
        assertThat(all).contains(5L, 100L);
        long failedVersion = Long.parseLong(Path.of(FAILED_STAGING.get()).getFileName().toString().split("-")[0]);
        assertThat(all).as("the version staged before the failure is republished and announced").contains(failedVersion);
        assertThat(all.size()).isGreaterThanOrEqualTo(20);

        // retention: the last 3 and every 4th (step divisible by 20), LATEST = the last
        List<Long> expectedKept = all.stream()
                .filter(v -> v % (4 * PUBLISH_EVERY) == 0 || all.indexOf(v) >= all.size() - 3).toList();
        assertThat(ModelArtifactSink.committedVersions(
                org.apache.flink.core.fs.FileSystem.getLocalFileSystem(), new org.apache.flink.core.fs.Path(models.toString())))
                .containsExactlyElementsOf(expectedKept);
        assertThat(Files.readString(models.resolve(ModelArtifacts.LATEST)).trim()).isEqualTo(String.valueOf(last));
        try (Stream<Path> entries = Files.list(models)) {
            assertThat(entries.map(e -> e.getFileName().toString()))
                    .allMatch(n -> n.equals(ModelArtifacts.LATEST) || n.equals(ModelArtifacts.STAGING)
                            || ModelArtifacts.versionOf(n) >= 0);
        }
        try (Stream<Path> staging = Files.list(models.resolve(ModelArtifacts.STAGING))) {
            assertThat(staging.toList()).as("staging leftovers are cleaned").isEmpty();
        }
        assertThat(Path.of(FAILED_STAGING.get())).as("the failed attempt is never renamed into place").doesNotExist();

        // bit for bit: each committed version = the encoder of the update of that version
        Map<Long, ModelUpdate> raw = new TreeMap<>();
        for (ModelUpdate u : TestSinks.<ModelUpdate>received("artifact-raw")) {
            raw.put(u.version, u);
        }
        for (long v : expectedKept) {
            Path dir = models.resolve(String.valueOf(v));
            assertThat(dir.resolve(FAILED_MARK)).doesNotExist();
            byte[] weights = Files.readAllBytes(dir.resolve(ModelArtifacts.ENCODER_FILE));
            assertThat(ModelArtifacts.sha256(weights)).isEqualTo(announced.get(v));
            ModelArtifact json = ModelArtifact.parse(Files.readString(dir.resolve(ModelArtifacts.MODEL_JSON)));
            assertThat(json.weights.sha256).isEqualTo(announced.get(v));
            assertThat(json.step).isEqualTo(v);
            assertThat(json.method).isEqualTo("simsiam");
            assertThat(json.encoder.kind).isEqualTo("convnet");
            assertThat(json.input.mean).containsExactly(settings.mean());
            LearnerState state = LearnerStateCodec.decode(raw.get(v).encoderState);
            var file = SafetensorsReader.read(weights).tensors();
            for (Map.Entry<String, Tensor> e : state.withPrefix(LearnerState.PARAM).entrySet()) {
                var t = file.get(TorchNames.encoder(e.getKey()));
                assertThat(t.shape()).containsExactly(e.getValue().shape());
                // bit for bit (Arrays.equals compares floatToIntBits); AssertJ's containsExactly is slow on 300k values
                assertThat(java.util.Arrays.equals(t.floats(), e.getValue().data())).as(e.getKey()).isTrue();
            }
            assertThat(file.get("1.num_batches_tracked").longs()).containsExactly(v);
            assertThat(file.keySet()).hasSize(24);
            // heads: the projector and predictor under SimSiamNet's names (the projector's last BN has no affine)
            byte[] headBytes = Files.readAllBytes(dir.resolve(ModelArtifacts.HEADS_FILE));
            assertThat(ModelArtifacts.sha256(headBytes)).isEqualTo(json.heads.sha256);
            var heads = SafetensorsReader.read(headBytes).tensors();
            assertThat(heads).containsKeys("projector.0.weight", "projector.7.running_var", "predictor.3.bias")
                    .doesNotContainKeys("projector.7.weight", "projector.7.bias").hasSize(24);
        }
    }

    /** One look at the models folder: every version directory is complete and announced-consistent, LATEST names one. */
    private static void watch(Path models, ConcurrentLinkedQueue<String> violations) {
        try {
            if (!Files.exists(models)) {
                Thread.sleep(20);
                return;
            }
            List<Path> entries;
            try (Stream<Path> s = Files.list(models)) {
                entries = s.toList();
            }
            for (Path e : entries) {
                String name = e.getFileName().toString();
                if (name.equals(ModelArtifacts.LATEST) || name.equals(ModelArtifacts.STAGING) || name.startsWith(".")) {
                    continue;
                }
                if (ModelArtifacts.versionOf(name) < 0) {
                    violations.add("unexpected entry " + name);
                    continue;
                }
                if (Files.exists(e.resolve(FAILED_MARK))) {
                    violations.add("version " + name + " is the attempt that failed before its checkpoint");
                }
                try {
                    ModelArtifact json = ModelArtifact.parse(Files.readString(e.resolve(ModelArtifacts.MODEL_JSON)));
                    byte[] weights = Files.readAllBytes(e.resolve(ModelArtifacts.ENCODER_FILE));
                    if (!ModelArtifacts.sha256(weights).equals(json.weights.sha256)) {
                        violations.add("version " + name + " is incomplete (sha256)");
                    }
                } catch (java.nio.file.NoSuchFileException gone) {
                    // deleted by retention between the listing and the read: only possible if the directory is gone
                    if (Files.exists(e)) {
                        violations.add("version " + name + " misses " + gone.getFile());
                    }
                }
            }
            Path latest = models.resolve(ModelArtifacts.LATEST);
            if (Files.exists(latest)) {
                String v = Files.readString(latest, StandardCharsets.UTF_8).trim();
                if (!Files.isDirectory(models.resolve(v))) {
                    violations.add("LATEST names " + v + ", which is not there");
                }
            }
            Thread.sleep(20);
        } catch (java.nio.file.NoSuchFileException ignored) {
            // LATEST replaced between exists and read
        } catch (Exception e) {
            violations.add("watcher: " + e);
        }
    }
}
