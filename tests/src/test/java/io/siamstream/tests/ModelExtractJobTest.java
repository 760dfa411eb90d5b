package io.siamstream.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.connectors.model.ModelArtifact;
import io.siamstream.connectors.model.ModelArtifactSink;
import io.siamstream.connectors.model.ModelArtifacts;
import io.siamstream.connectors.model.SafetensorsReader;
import io.siamstream.job.ExportSettings;
import io.siamstream.job.JobSettings;
import io.siamstream.job.JobSinks;
import io.siamstream.job.ModelCommand;
import io.siamstream.job.ModelExtract;
import io.siamstream.job.SiamstreamJob;
import io.siamstream.job.SiamstreamOptions;
import io.siamstream.record.StepMetrics;
import io.siamstream.tests.CheckpointedEnvironment.Barriers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CompletedCheckpointStats;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code model extract} against the job's own artifacts. An endless job (unaligned checkpoints, the job's default;
 * a model version every step) runs until one of its checkpoints holds records in flight; the model is extracted from
 * that checkpoint while the job runs on, and from the canonical savepoint the job is then stopped with. Each extracted encoder.safetensors is, byte for byte, the committed version of the same step, and model.json
 * agrees with the published one on every field the job wrote. A snapshot whose state files are gone gives a message
 * that names the committed versions and LATEST.
 */
class ModelExtractJobTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).setConfiguration(retainAll()).build());

    /** The JobManager keeps every completed checkpoint (a cluster setting): the unaligned one is read after the job. */
    private static Configuration retainAll() {
        Configuration conf = new Configuration();
        conf.set(CheckpointingOptions.MAX_RETAINED_CHECKPOINTS, 1000);
        return conf;
    }

    private static Configuration options(Path out) {
        Configuration conf = new Configuration();
        conf.set(SiamstreamOptions.EPOCHS, 0L);
        conf.set(SiamstreamOptions.BATCH_SIZE, 16);
        conf.set(SiamstreamOptions.PUBLISH_EVERY, 1);
        conf.set(SiamstreamOptions.SCHEDULE_STEPS, 200L);
        conf.set(SiamstreamOptions.DEVICE, "cpu");
        conf.set(SiamstreamOptions.LINEAR_EVERY, 0);
        conf.set(SiamstreamOptions.OUTPUT, out.toString());
        conf.set(SiamstreamOptions.EXPORT_KEEP_LAST, 1000);
        conf.set(SiamstreamOptions.EXPORT_HEADS, true);
        return conf;
    }

    @Test
    void theModelOutOfASavepointAndAnUnalignedCheckpointIsTheCommittedVersion(@TempDir Path tmp,
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        Configuration options = options(tmp);
        JobSettings settings = JobSettings.from(options);
        Configuration flink = CheckpointedEnvironment.configuration(tmp, Duration.ofMillis(300), Barriers.UNALIGNED);
        // the checkpoints stay where they are, so one can be read after the job
        flink.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        StreamExecutionEnvironment env = CheckpointedEnvironment.environment(flink);
        SiamstreamJob.Streams streams = SiamstreamJob.build(settings, SiamstreamJob.replaySource(env, settings),
                JobSinks.files(tmp.toString(), ExportSettings.from(options, settings)), null);
        streams.steps().sinkTo(TestSinks.<StepMetrics>collecting("extract-steps")).name("watch steps").setParallelism(1);
        long start = System.nanoTime();
        JobClient job = env.executeAsync("model extract");
        JobID id = job.getJobID();

        // an unaligned checkpoint with records in flight, taken after the first steps
        CompletedCheckpointStats unaligned = null;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        long trained = 0;
        while (unaligned == null) {
            assertThat(System.nanoTime()).as("waiting for an unaligned checkpoint with data in flight").isLessThan(deadline);
            Thread.sleep(100);
            if (trained == 0) {
                trained = TestSinks.received("extract-steps").size() >= 3 ? System.currentTimeMillis() : 0;
                continue;
            }
            for (AbstractCheckpointStats c : cluster.getExecutionGraph(id).get().getCheckpointStatsSnapshot()
                    .getHistory().getCheckpoints()) {
                if (c instanceof CompletedCheckpointStats done && done.getTriggerTimestamp() > trained
                        && done.isUnalignedCheckpoint() && done.getPersistedData() > 0) {
                    unaligned = done;
                }
            }
        }
        // from the unaligned checkpoint, while the job runs on (a finished job's checkpoints are discarded): its
        // in-flight records are not model state, the learner's state is whole
        ModelArtifact fromCheckpoint = extract(unaligned.getExternalPath(), tmp.resolve("from-checkpoint"), options);
        assertThat(fromCheckpoint.extracted.in_flight_bytes).as("records in flight in the checkpoint").isPositive();
        assertThat(fromCheckpoint.extracted.kind).contains("unaligned");
        String savepoint = job.stopWithSavepoint(false, tmp.resolve("savepoints").toUri().toString(),
                SavepointFormatType.CANONICAL).get(2, TimeUnit.MINUTES);
        long lastStep = TestSinks.<StepMetrics>received("extract-steps").stream().mapToLong(m -> m.step).max()
                .orElseThrow();
        Path models = tmp.resolve("models");

        // from the savepoint: the step the job stopped at, whose version the savepoint committed
        ModelArtifact fromSavepoint = extract(savepoint, tmp.resolve("from-savepoint"), options);
        assertThat(fromSavepoint.step).isEqualTo(lastStep);
        assertThat(fromSavepoint.extracted.in_flight_bytes).as("a savepoint is aligned").isZero();
        assertSameAsCommitted(tmp.resolve("from-savepoint"), models);

        assertThat(fromCheckpoint.step).isBetween(1L, lastStep);
        // the stop committed every version published before it, that of the checkpoint's step among them
        assertSameAsCommitted(tmp.resolve("from-checkpoint"), models);
        System.out.printf(java.util.Locale.ROOT, "model extract: savepoint at step %d, unaligned checkpoint %d at step"
                        + " %d with %d bytes in flight, %.1f s%n", lastStep, unaligned.getCheckpointId(),
                fromCheckpoint.step, fromCheckpoint.extracted.in_flight_bytes, (System.nanoTime() - start) / 1e9);

        // options that describe another model are refused, naming both
        Configuration resnet = options(tmp);
        resnet.set(SiamstreamOptions.ENCODER, "resnet18_cifar");
        assertThatThrownBy(() -> ModelExtract.extract(savepoint, tmp.resolve("wrong").toString(), null, resnet))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("another model");

        // a snapshot whose state files are gone: the message names the committed artifacts instead
        Path broken = tmp.resolve("broken-savepoint");
        Files.createDirectories(broken);
        Files.copy(Path.of(java.net.URI.create(savepoint)).resolve("_metadata"), broken.resolve("_metadata"));
        long latest = Long.parseLong(Files.readString(models.resolve(ModelArtifacts.LATEST)).trim());
        assertThatThrownBy(() -> extract(broken.toString(), tmp.resolve("from-broken"), options))
                .isInstanceOf(ModelExtract.UnreadableSnapshot.class)
                .hasMessageContaining("cannot read the trainer's state from " + broken)
                .hasMessageContaining(models + " holds versions 1, 2")
                .hasMessageContaining("LATEST = " + latest);
        CheckpointedEnvironment.awaitCheckpointsDiscarded(tmp);
    }

    /** Runs the command as a user would, with the job's options as --siamstream.* arguments; returns its model.json. */
    private static ModelArtifact extract(String from, Path to, Configuration options) throws Exception {
        Map<String, String> args = new LinkedHashMap<>();
        args.put("from", from);
        args.put("to", to.toString());
        options.toMap().forEach(args::put);
        System.out.println(ModelCommand.extract(args));
        return ModelArtifact.parse(Files.readString(to.resolve(ModelArtifacts.MODEL_JSON)));
    }

    /** The extracted version directory against the committed one of its step: the weights byte for byte. */
    private static void assertSameAsCommitted(Path extracted, Path models) throws Exception {
        ModelArtifact mine = ModelArtifact.parse(Files.readString(extracted.resolve(ModelArtifacts.MODEL_JSON)));
        Path committed = models.resolve(String.valueOf(mine.version));
        assertThat(committed).as("the committed version of step " + mine.step).isDirectory();
        ModelArtifact job = ModelArtifact.parse(Files.readString(committed.resolve(ModelArtifacts.MODEL_JSON)));
        for (String file : List.of(ModelArtifacts.ENCODER_FILE, ModelArtifacts.HEADS_FILE)) {
            byte[] a = Files.readAllBytes(extracted.resolve(file));
            byte[] b = Files.readAllBytes(committed.resolve(file));
            assertThat(java.util.Arrays.equals(a, b)).as(file + " of version " + mine.version + " byte for byte").isTrue();
        }
        var tensors = SafetensorsReader.read(Files.readAllBytes(extracted.resolve(ModelArtifacts.ENCODER_FILE))).tensors();
        var published = SafetensorsReader.read(Files.readAllBytes(committed.resolve(ModelArtifacts.ENCODER_FILE))).tensors();
        assertThat(tensors.keySet()).isEqualTo(published.keySet());
        for (String name : published.keySet()) {
            if (published.get(name).floats() != null) {
                assertThat(java.util.Arrays.equals(tensors.get(name).floats(), published.get(name).floats())).as(name).isTrue();
            }
        }
        assertThat(job.extracted).isNull();
        assertThat(mine.extracted.published).as("every step was published").isTrue();
        // every field the job wrote is the same; extracted is what only the extracted one has
        mine.extracted = null;
        assertThat(mine.toJson()).isEqualTo(job.toJson());
        assertThat(ModelArtifactSink.committedVersions(org.apache.flink.core.fs.FileSystem.getLocalFileSystem(),
                new org.apache.flink.core.fs.Path(models.toString()))).contains(mine.version);
        try (Stream<Path> files = Files.list(extracted)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly(
                    ModelArtifacts.ENCODER_FILE, ModelArtifacts.HEADS_FILE, ModelArtifacts.MODEL_JSON);
        }
    }
}
