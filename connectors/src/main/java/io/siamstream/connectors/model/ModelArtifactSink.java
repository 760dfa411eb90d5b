package io.siamstream.connectors.model;

import io.siamstream.record.ModelUpdate;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Model artifacts, exactly once, on any Flink {@link FileSystem} (local, {@code s3://}, {@code hdfs://} through
 * Flink's plugins), with two-phase commit (Sink V2 {@link SupportsCommitter}):
 * <ol>
 *   <li>the writer keeps the updates of the current checkpoint interval; at {@code prepareCommit} (the checkpoint
 *       barrier, or the end of input before the final checkpoint) it writes each one into a hidden staging
 *       directory {@code <models>/.staging/<version>-<uuid>/} ({@code encoder.safetensors}, optionally
 *       {@code heads.safetensors}, {@code model.json} last) and hands a {@link ModelCommittable} to the checkpoint;</li>
 *   <li>when that checkpoint completes, the committer renames the staging directory to {@code <models>/<version>/},
 *       then moves {@code LATEST} forward (written to a temporary file and renamed over it, never backward), deletes
 *       staging leftovers of versions up to it (from attempts that failed before their checkpoint), and applies
 *       retention (the last {@code keepLast} versions plus every {@code keepEvery}-th, never LATEST's; a version
 *       is first renamed into {@code .staging}, then deleted, so that it disappears at once).</li>
 * </ol>
 * A retry is idempotent: a committable whose target exists with the same sha256 counts as committed (its staging
 * leftover is removed); a target with another sha256 (a different run writing into the same directory) fails the
 * job. A version written before a failure and never committed stays in {@code .staging}, invisible, and is deleted
 * once the recovered job has republished and committed it. On an object store a rename is a copy: readers should
 * take versions from {@code LATEST} or from the announcements, which name only committed versions.
 *
 * <p>Announcements ({@link Announcer}): the model-update stream is made from the same updates by a map that computes
 * the artifact's final uri, sha256 and size (the files are a pure function of the update) and drops the weights;
 * it goes to an exactly-once sink (JSON-lines files, Kafka transactions) that commits on the same checkpoint as the
 * artifact. Chosen over a post-commit topology because records that a committer emits downstream after the
 * <em>final</em> checkpoint of a bounded input cannot be committed by a downstream exactly-once sink any more (there
 * is no later checkpoint), so the last version's announcement would be lost; with both sinks on the same checkpoint
 * every committed version is announced once, and no version is announced whose checkpoint did not complete (a
 * failure before it aborts both). The only gap is the moment between the two commits of one checkpoint: a reader may
 * see an announcement milliseconds before the rename; it names the final location, which then exists.
 */
public class ModelArtifactSink implements Sink<ModelUpdate>, SupportsCommitter<ModelCommittable> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ModelArtifactSink.class);

    private final ArtifactSpec spec;

    public ModelArtifactSink(ArtifactSpec spec) {
        this.spec = spec;
    }

    public ArtifactSpec spec() {
        return spec;
    }

    /** The map that turns updates into their announcements (uri, sha256, bytes; no weights). */
    public Announcer announcer() {
        return new Announcer(spec);
    }

    /** Called after a version was written to its staging directory, before the checkpoint takes it (tests inject failures here). */
    protected void staged(long version, Path staging) throws IOException {}

    @Override
    @SuppressWarnings("deprecation")
    public SinkWriter<ModelUpdate> createWriter(InitContext context) {
        return new Writer();
    }

    @Override
    public SinkWriter<ModelUpdate> createWriter(WriterInitContext context) {
        return new Writer();
    }

    @Override
    public Committer<ModelCommittable> createCommitter(CommitterInitContext context) {
        return new ArtifactCommitter(spec);
    }

    @Override
    public SimpleVersionedSerializer<ModelCommittable> getCommittableSerializer() {
        return new ModelCommittable.Serializer();
    }

    static Path models(ArtifactSpec spec) {
        return new Path(spec.models());
    }

    private final class Writer implements CommittingSinkWriter<ModelUpdate, ModelCommittable> {

        private final List<ModelUpdate> pending = new ArrayList<>();

        @Override
        public void write(ModelUpdate element, Context context) {
            pending.add(element);
        }

        @Override
        public void flush(boolean endOfInput) {}

        @Override
        public Collection<ModelCommittable> prepareCommit() throws IOException {
            List<ModelCommittable> out = new ArrayList<>();
            Path models = models(spec);
            FileSystem fs = models.getFileSystem();
            for (ModelUpdate update : pending) {
                ModelArtifacts.Files files = ModelArtifacts.of(spec, update);
                Path staging = new Path(new Path(models, ModelArtifacts.STAGING), update.version + "-" + UUID.randomUUID());
                writeFile(fs, new Path(staging, ModelArtifacts.ENCODER_FILE), files.encoder());
                if (files.heads() != null) {
                    writeFile(fs, new Path(staging, ModelArtifacts.HEADS_FILE), files.heads());
                }
                writeFile(fs, new Path(staging, ModelArtifacts.MODEL_JSON), files.json().toBytes());
                staged(update.version, staging);
                out.add(new ModelCommittable(update.version, staging.toString(), files.json().weights.sha256,
                        files.encoder().length));
            }
            pending.clear();
            return out;
        }

        @Override
        public void close() {}
    }

    static void writeFile(FileSystem fs, Path path, byte[] data) throws IOException {
        try (OutputStream out = fs.create(path, FileSystem.WriteMode.OVERWRITE)) {
            out.write(data);
        }
    }

    static byte[] read(FileSystem fs, Path path) throws IOException {
        try (FSDataInputStream in = fs.open(path)) {
            return in.readAllBytes();
        }
    }

    /** The version LATEST names, or -1 where there is none. */
    public static long latest(FileSystem fs, Path models) throws IOException {
        Path latest = new Path(models, ModelArtifacts.LATEST);
        if (!fs.exists(latest)) {
            return -1;
        }
        return Long.parseLong(new String(read(fs, latest), StandardCharsets.UTF_8).trim());
    }

    /** Renames staged versions into place, moves LATEST forward, cleans leftovers, applies retention. */
    static final class ArtifactCommitter implements Committer<ModelCommittable> {

        private final ArtifactSpec spec;

        ArtifactCommitter(ArtifactSpec spec) {
            this.spec = spec;
        }

        @Override
        public void commit(Collection<CommitRequest<ModelCommittable>> requests) throws IOException {
            Path models = models(spec);
            FileSystem fs = models.getFileSystem();
            List<CommitRequest<ModelCommittable>> sorted = new ArrayList<>(requests);
            sorted.sort(Comparator.comparingLong(r -> r.getCommittable().version()));
            long committed = -1;
            for (CommitRequest<ModelCommittable> request : sorted) {
                ModelCommittable c = request.getCommittable();
                Path target = new Path(models, String.valueOf(c.version()));
                Path staging = new Path(c.staging());
                if (!fs.exists(target)) {
                    if (!fs.exists(staging)) {
                        if (c.version() < latest(fs, models)) {
                            // committed before and deleted by retention since: a retry after a restore
                            request.signalAlreadyCommitted();
                            continue;
                        }
                        request.signalFailedWithUnknownReason(new IOException("model version " + c.version()
                                + ": neither " + target + " nor its staging directory " + staging + " exists"));
                        continue;
                    }
                    if (!fs.rename(staging, target) && !fs.exists(target)) {
                        request.retryLater();
                        continue;
                    }
                    LOG.info("committed model version {} at {}", c.version(), target);
                } else {
                    String sha = ModelArtifacts.sha256(read(fs, new Path(target, ModelArtifacts.ENCODER_FILE)));
                    if (!sha.equals(c.sha256())) {
                        request.signalFailedWithUnknownReason(new IOException("model version " + c.version() + ": "
                                + target + " exists with another encoder (sha256 " + sha + ", this one " + c.sha256()
                                + "): another run's artifacts? Use an empty models directory."));
                        continue;
                    }
                    if (fs.exists(staging)) {
                        fs.delete(staging, true);
                    }
                    request.signalAlreadyCommitted();
                }
                committed = Math.max(committed, c.version());
            }
            if (committed >= 0) {
                advanceLatest(fs, models, committed);
                cleanStaging(fs, models, committed);
                retain(fs, models);
            }
        }

        private static void advanceLatest(FileSystem fs, Path models, long version) throws IOException {
            if (latest(fs, models) >= version) {
                return;
            }
            Path latest = new Path(models, ModelArtifacts.LATEST);
            Path temp = new Path(models, "." + ModelArtifacts.LATEST + "-" + UUID.randomUUID());
            writeFile(fs, temp, ModelArtifacts.latest(version));
            if (!fs.rename(temp, latest)) {
                // file systems whose rename does not replace (HDFS): not atomic there, LATEST is briefly absent
                fs.delete(latest, false);
                if (!fs.rename(temp, latest)) {
                    throw new IOException("cannot move " + temp + " to " + latest);
                }
            }
        }

        /** Staging directories of versions up to {@code committed}: attempts that failed before their checkpoint. */
        private static void cleanStaging(FileSystem fs, Path models, long committed) throws IOException {
            Path staging = new Path(models, ModelArtifacts.STAGING);
            if (!fs.exists(staging)) {
                return;
            }
            for (FileStatus s : fs.listStatus(staging)) {
                String name = s.getPath().getName();
                int dash = name.indexOf('-');
                long version = dash < 0 ? -1 : ModelArtifacts.versionOf(name.substring(0, dash));
                if (version >= 0 && version <= committed) {
                    fs.delete(s.getPath(), true);
                }
            }
        }

        private void retain(FileSystem fs, Path models) throws IOException {
            long latest = latest(fs, models);
            List<Long> versions = committedVersions(fs, models);
            for (long v : versions) {
                if (v != latest && !spec.keeps(v, versions)) {
                    // out of sight first (one rename), then deleted file by file: no reader sees a half-deleted version
                    Path gone = new Path(new Path(models, ModelArtifacts.STAGING), v + "-deleted-" + UUID.randomUUID());
                    Path dir = new Path(models, String.valueOf(v));
                    fs.mkdirs(gone.getParent());
                    fs.delete(fs.rename(dir, gone) ? gone : dir, true);
                    LOG.info("retention: deleted model version {}", v);
                }
            }
        }

        @Override
        public void close() {}
    }

    /** The committed version directories under {@code models}, ascending. */
    public static List<Long> committedVersions(FileSystem fs, Path models) throws IOException {
        List<Long> out = new ArrayList<>();
        if (!fs.exists(models)) {
            return out;
        }
        for (FileStatus s : fs.listStatus(models)) {
            long v = ModelArtifacts.versionOf(s.getPath().getName());
            if (s.isDir() && v >= 0) {
                out.add(v);
            }
        }
        out.sort(null);
        return out;
    }

    /**
     * Model updates to their announcements: the uri of the version directory the committer will create, the sha256
     * and size of its encoder.safetensors (computed from the update: the files are a pure function of it), the
     * metadata; no weights.
     */
    public static final class Announcer extends RichMapFunction<ModelUpdate, ModelUpdate> {

        private static final long serialVersionUID = 1L;
        private final ArtifactSpec spec;
        private transient Path models;

        public Announcer(ArtifactSpec spec) {
            this.spec = spec;
        }

        @Override
        public void open(OpenContext context) throws IOException {
            Path path = models(spec);
            models = path.makeQualified(path.getFileSystem());
        }

        @Override
        public ModelUpdate map(ModelUpdate update) {
            ModelArtifacts.Files files = ModelArtifacts.of(spec, update);
            ModelUpdate out = update.withoutWeights();
            out.uri = new Path(models, String.valueOf(update.version)).toString();
            out.sha256 = files.json().weights.sha256;
            out.bytes = files.encoder().length;
            return out;
        }
    }
}
