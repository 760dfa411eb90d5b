package io.siamstream.job;

import ai.djl.Device;
import io.siamstream.connectors.model.ArtifactSpec;
import io.siamstream.connectors.model.ModelArtifact;
import io.siamstream.connectors.model.ModelArtifactSink;
import io.siamstream.connectors.model.ModelArtifacts;
import io.siamstream.eval.FrozenEncoder;
import io.siamstream.flink.KeyedLearnerState;
import io.siamstream.flink.LearnerChunk;
import io.siamstream.flink.LearnerChunkSerializer;
import io.siamstream.flink.OperatorLearnerState;
import io.siamstream.model.Encoders;
import io.siamstream.flink.TrainerState;
import io.siamstream.flink.TrainingOperator;
import io.siamstream.record.ModelUpdate;
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerConfig;
import io.siamstream.train.LearnerState;
import io.siamstream.train.LearnerStateCodec;
import io.siamstream.train.Tensor;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.contrib.streaming.state.EmbeddedRocksDBStateBackend;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.checkpoint.SavepointType;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.state.IncrementalKeyedStateHandle;
import org.apache.flink.runtime.state.KeyedStateHandle;
import org.apache.flink.runtime.state.OperatorStateHandle;
import org.apache.flink.runtime.state.StateBackend;
import org.apache.flink.runtime.state.StateObject;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.state.api.runtime.SavepointLoader;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.operators.collect.CollectSinkOperatorFactory;
import org.apache.flink.util.Collector;

/**
 * {@code model extract --from <savepoint|checkpoint> --to <dir> [--replica N] [--siamstream.<option> value ...]}:
 * reads the training operator's state (uid {@value SiamstreamJob#TRAIN_UID}) out of a savepoint or retained
 * checkpoint with Flink's State Processor API and writes the version directory the job would have published at that
 * step ({@code encoder.safetensors}, {@code heads.safetensors} with {@code siamstream.export.heads}, {@code model.json})
 * into {@code <dir>}. The weights are the same bytes as the job's artifact of that step.
 *
 * <p>The trainer's state holds the learner (parameters, BN statistics, step, run seed and the model's fingerprint:
 * method and its hyper-parameters, encoder kind, channels and width, head sizes, input shape), the epoch of the last
 * pair trained, and the metadata of the last model update. It does not hold the normalisation or the export
 * settings, so the command takes the job's own options ({@code --siamstream.*}, and the {@code siamstream.*} keys of
 * a Flink config file, as the job does) and refuses a state whose fingerprint, seed or tensor shapes differ from what
 * they configure. Where the job published this very step, epoch, metrics and wall time are the publication's;
 * otherwise the metrics are null (a step's loss is not state). {@code model.json}'s {@code extracted} says which.
 */
public final class ModelExtract {

    private ModelExtract() {}

    /** What the snapshot could not give: the message names the committed artifacts that stand in for it. */
    public static final class UnreadableSnapshot extends Exception {
        private static final long serialVersionUID = 1L;

        UnreadableSnapshot(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** One replica's part of the trainer's keyed state, as the State Processor API hands it over (a Flink POJO). */
    public static final class ReplicaState {
        public int replica;
        /** The online network's parameters and BN statistics ({@code param/...}) with the header: codec bytes. */
        public byte[] parameters;
        /** The epoch of the last pair trained, or null where the state has none (written before it was kept). */
        public Long lastEpoch;
        /** The metadata of the last model update, or null. */
        public ModelUpdate lastPublished;

        public ReplicaState() {}
    }

    /**
     * Reads each replica key's epoch and last publication, and its learner where earlier versions kept it in keyed
     * state (parameters only: optimizer buffers, target and queue stay behind).
     */
    static final class TrainerStateReader extends KeyedStateReaderFunction<Integer, ReplicaState> {
        private static final long serialVersionUID = 1L;
        private transient KeyedLearnerState learner;
        private transient ValueState<Long> epoch;
        private transient ValueState<ModelUpdate> published;

        @Override
        public void open(Configuration parameters) {
            learner = TrainerState.learner(getRuntimeContext(), TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
            epoch = TrainerState.lastEpoch(getRuntimeContext());
            published = TrainerState.lastPublished(getRuntimeContext());
        }

        @Override
        public void readKey(Integer key, Context context, Collector<ReplicaState> out) throws Exception {
            LearnerState state = learner.read();
            ReplicaState r = new ReplicaState();
            r.replica = key;
            r.parameters = state == null ? null : parametersOf(state);
            r.lastEpoch = epoch.value();
            r.lastPublished = published.value();
            out.collect(r);
        }
    }

    /** The online network's parameters ({@code param/...}) of a learner state with its header: codec bytes. */
    static byte[] parametersOf(LearnerState state) {
        Map<String, Tensor> parameters = new LinkedHashMap<>();
        state.tensors().forEach((name, t) -> {
            if (name.startsWith(LearnerState.PARAM)) {
                parameters.put(name, t);
            }
        });
        return LearnerStateCodec.encode(new LearnerState(state.fingerprint(), state.step(), state.skippedSteps(),
                state.seed(), parameters));
    }

    /** The largest parameter set (online network, encoded) the command carries out of the reading job. */
    static final MemorySize MAX_PARAMETER_BYTES = MemorySize.parse("1gb");

    /** What the snapshot's metadata says about it, before any state is read. */
    record Snapshot(String path, long checkpointId, String kind, long inFlightBytes, boolean incrementalRocksDb,
                    boolean learnersInOperatorState) {}

    /** The written version directory and how it was made. */
    public record Result(String dir, ModelArtifact json, Snapshot snapshot) {}

    /**
     * Extracts replica {@code replica} (null: the only one) of the snapshot at {@code from} into the version
     * directory {@code to}, configured by the job's options {@code options}.
     */
    public static Result extract(String from, String to, Integer replica, Configuration options)
            throws IOException, UnreadableSnapshot {
        JobSettings settings = JobSettings.from(options);
        boolean heads = options.get(SiamstreamOptions.EXPORT_HEADS);
        String models = committedModels(options, settings);
        Path target = new Path(to);
        FileSystem fs = target.getFileSystem();
        if (fs.exists(new Path(target, ModelArtifacts.MODEL_JSON))) {
            throw new IllegalArgumentException("--to " + to + " already holds a model.json; give an empty or new directory");
        }
        Snapshot snapshot;
        List<ReplicaState> replicas;
        try {
            snapshot = inspect(from);
            replicas = read(from, snapshot);
        } catch (Exception e) {
            throw unreadable(from, e, models);
        }
        if (replicas.isEmpty()) {
            throw unreadable(from, new IllegalStateException("the operator '" + SiamstreamJob.TRAIN_UID
                    + "' holds no learner (the snapshot was taken before the first training step)"), models);
        }
        ReplicaState chosen = choose(replicas, replica);
        LearnerState parameters = LearnerStateCodec.decode(chosen.parameters);
        check(settings.learner(), parameters);
        ModelUpdate update = update(chosen, parameters, heads);
        ModelArtifacts.Files files = ModelArtifacts.of(new ArtifactSpec(settings.learner(), settings.mean(),
                settings.std(), to, heads, 1, 0, settings.publishEvery()), update);
        ModelArtifact json = files.json();
        json.extracted = new ModelArtifact.Extraction();
        json.extracted.snapshot = snapshot.path();
        json.extracted.checkpoint_id = snapshot.checkpointId();
        json.extracted.kind = snapshot.kind();
        json.extracted.in_flight_bytes = snapshot.inFlightBytes();
        json.extracted.replica = chosen.replica;
        json.extracted.published = published(chosen, parameters);
        json.extracted.extracted_at_ms = System.currentTimeMillis();
        fs.mkdirs(target);
        write(fs, new Path(target, ModelArtifacts.ENCODER_FILE), files.encoder());
        if (files.heads() != null) {
            write(fs, new Path(target, ModelArtifacts.HEADS_FILE), files.heads());
        }
        // model.json last: a reader that finds it finds the weights it describes
        write(fs, new Path(target, ModelArtifacts.MODEL_JSON), json.toBytes());
        return new Result(to, json, snapshot);
    }

    /** Where the job's committed artifacts are, by its options; null where export is off. */
    static String committedModels(Configuration options, JobSettings settings) {
        String models = options.getOptional(SiamstreamOptions.EXPORT_MODELS).map(String::trim)
                .orElse(settings.output() + "/models");
        return models.equalsIgnoreCase("none") ? null : models;
    }

    /** Loads the snapshot's metadata: its kind, the in-flight data it holds, and which state backend reads it. */
    static Snapshot inspect(String from) throws IOException {
        CheckpointMetadata metadata = SavepointLoader.loadSavepointMetadata(from);
        var trainId = OperatorIdentifier.forUid(SiamstreamJob.TRAIN_UID).getOperatorId();
        OperatorState train = metadata.getOperatorStates().stream()
                .filter(s -> s.getOperatorID().equals(trainId)).findFirst()
                .orElseThrow(() -> new IllegalStateException("the snapshot has no state of the operator with uid '"
                        + SiamstreamJob.TRAIN_UID + "' (not a siamstream job's snapshot?)"));
        boolean incremental = false;
        boolean operatorLearners = false;
        for (OperatorSubtaskState subtask : train.getStates()) {
            for (KeyedStateHandle handle : subtask.getManagedKeyedState()) {
                incremental |= handle instanceof IncrementalKeyedStateHandle;
            }
            for (OperatorStateHandle handle : subtask.getManagedOperatorState()) {
                operatorLearners |= handle.getStateNameToPartitionOffsets().containsKey(TrainerState.LEARNER);
            }
        }
        long inFlight = 0;
        for (OperatorState operator : metadata.getOperatorStates()) {
            for (OperatorSubtaskState subtask : operator.getStates()) {
                inFlight += size(subtask.getInputChannelState()) + size(subtask.getResultSubpartitionState());
            }
        }
        var properties = metadata.getCheckpointProperties();
        String kind = properties == null ? "snapshot"
                : properties.getCheckpointType() instanceof SavepointType savepoint
                        ? "savepoint, " + savepoint.getFormatType().name().toLowerCase(java.util.Locale.ROOT)
                        : "checkpoint";
        return new Snapshot(from, metadata.getCheckpointId(), kind + (inFlight > 0 ? ", unaligned" : ", aligned"),
                inFlight, incremental, operatorLearners);
    }

    private static long size(Iterable<? extends StateObject> handles) {
        long bytes = 0;
        for (StateObject h : handles) {
            bytes += h.getStateSize();
        }
        return bytes;
    }

    /**
     * Runs the State Processor API on a local environment: RocksDB where the state is RocksDB's own (incremental
     * checkpoints, native savepoints), the heap backend for the canonical format, which any backend reads.
     */
    static List<ReplicaState> read(String from, Snapshot snapshot) throws Exception {
        Configuration conf = new Configuration();
        // one replica's parameters are one record, and the collect sink refuses a record above its batch size
        conf.set(CollectSinkOperatorFactory.MAX_BATCH_SIZE, MAX_PARAMETER_BYTES);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.configure(conf);
        env.setParallelism(1);
        env.getConfig().disableGenericTypes();
        StateBackend backend = snapshot.incrementalRocksDb() ? new EmbeddedRocksDBStateBackend()
                : new HashMapStateBackend();
        Map<Integer, ReplicaState> out = new java.util.TreeMap<>();
        try (var it = SavepointReader.read(env, from, backend)
                .readKeyedState(OperatorIdentifier.forUid(SiamstreamJob.TRAIN_UID), new TrainerStateReader(),
                        Types.INT, TypeInformation.of(ReplicaState.class))
                .executeAndCollect("model extract " + from)) {
            it.forEachRemaining(r -> out.put(r.replica, r));
        }
        if (snapshot.learnersInOperatorState()) {
            // the learners are operator state (a union list of chunks): only the index and the parameters travel
            List<LearnerChunk> chunks = new ArrayList<>();
            try (var it = SavepointReader.read(env, from, backend)
                    .readUnionState(OperatorIdentifier.forUid(SiamstreamJob.TRAIN_UID), TrainerState.LEARNER,
                            TypeInformation.of(LearnerChunk.class), LearnerChunkSerializer.INSTANCE)
                    .filter(c -> c.tensor() == null || c.tensor().startsWith(LearnerState.PARAM))
                    .returns(TypeInformation.of(LearnerChunk.class))
                    .executeAndCollect("model extract " + from + " (learners)")) {
                it.forEachRemaining(chunks::add);
            }
            OperatorLearnerState.assemble(chunks, r -> true, name -> name.startsWith(LearnerState.PARAM))
                    .forEach((replica, state) -> {
                        ReplicaState r = out.computeIfAbsent(replica, k -> {
                            ReplicaState fresh = new ReplicaState();
                            fresh.replica = k;
                            return fresh;
                        });
                        r.parameters = parametersOf(state);
                    });
        }
        // a replica with waiting pairs only has no learner yet
        out.values().removeIf(r -> r.parameters == null);
        return new ArrayList<>(out.values());
    }

    private static ReplicaState choose(List<ReplicaState> replicas, Integer replica) {
        String held = replicas.stream().map(r -> String.valueOf(r.replica)).collect(Collectors.joining(", "));
        if (replica == null) {
            if (replicas.size() > 1) {
                throw new IllegalArgumentException("the snapshot holds replicas " + held + "; choose one with --replica");
            }
            return replicas.get(0);
        }
        return replicas.stream().filter(r -> r.replica == replica).findFirst().orElseThrow(() ->
                new IllegalArgumentException("--replica " + replica + ": the snapshot holds replicas " + held));
    }

    /**
     * The options must describe the model that wrote the state: the same fingerprint (method and its settings,
     * encoder, heads, input shape) and seed, and every encoder tensor of the shape the configured encoder has.
     */
    static void check(LearnerConfig config, LearnerState parameters) {
        if (!config.modelFingerprint().equals(parameters.fingerprint())) {
            throw new IllegalArgumentException("the options describe another model than the snapshot's: snapshot '"
                    + parameters.fingerprint() + "', options '" + config.modelFingerprint() + "'; pass the job's"
                    + " --siamstream.* options (method, encoder, source format and shape)");
        }
        if (config.seed() != parameters.seed()) {
            throw new IllegalArgumentException("siamstream.seed: " + config.seed() + ", but the snapshot's model was"
                    + " drawn from seed " + parameters.seed());
        }
        LearnerState encoder = encoder(parameters);
        java.util.Set<String> expected = new java.util.TreeSet<>();
        Encoders.create(config.encoder()).block().getParameters().keys()
                .forEach(name -> expected.add(LearnerState.PARAM + name));
        if (!expected.equals(new java.util.TreeSet<>(encoder.tensors().keySet()))) {
            throw new IllegalArgumentException("the snapshot's encoder tensors " + encoder.tensors().keySet()
                    + " are not those of the configured encoder " + expected);
        }
        // building the configured encoder from the state checks every tensor's shape
        new FrozenEncoder(config.encoder(), config.imageSize(), encoder, Device.cpu()).close();
    }

    /** The encoder's part of the online network, named inside the encoder: what a model update carries. */
    static LearnerState encoder(LearnerState parameters) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        parameters.withPrefix(LearnerState.PARAM + Learner.ENCODER_PREFIX)
                .forEach((name, t) -> tensors.put(LearnerState.PARAM + name, t));
        return new LearnerState(parameters.fingerprint(), parameters.step(), parameters.skippedSteps(),
                parameters.seed(), tensors);
    }

    /** The projector and predictor (network names): what a model update carries as its heads. */
    static LearnerState heads(LearnerState parameters) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        parameters.tensors().forEach((name, t) -> {
            if (!name.startsWith(LearnerState.PARAM + Learner.ENCODER_PREFIX)) {
                tensors.put(name, t);
            }
        });
        return new LearnerState(parameters.fingerprint(), parameters.step(), parameters.skippedSteps(),
                parameters.seed(), tensors);
    }

    private static boolean published(ReplicaState replica, LearnerState parameters) {
        return replica.lastPublished != null && replica.lastPublished.version == parameters.step();
    }

    /** The model update the trainer published (or would have published) at the state's step. */
    static ModelUpdate update(ReplicaState replica, LearnerState parameters, boolean heads) {
        ModelUpdate u = new ModelUpdate();
        u.replica = replica.replica;
        u.version = parameters.step();
        u.step = parameters.step();
        u.fingerprint = parameters.fingerprint();
        u.encoderState = LearnerStateCodec.encode(encoder(parameters));
        u.headsState = heads ? LearnerStateCodec.encode(heads(parameters)) : null;
        if (published(replica, parameters)) {
            ModelUpdate p = replica.lastPublished;
            u.epoch = p.epoch;
            u.loss = p.loss;
            u.projectionStd = p.projectionStd;
            u.outputStd = p.outputStd;
            u.wallTimeMillis = p.wallTimeMillis;
        } else {
            u.epoch = replica.lastEpoch == null ? -1 : replica.lastEpoch;
            u.loss = Double.NaN;
            u.projectionStd = Double.NaN;
            u.outputStd = Double.NaN;
            u.wallTimeMillis = 0;
        }
        return u;
    }

    /** The failure, with the committed artifacts that the job wrote for exactly this case named. */
    static UnreadableSnapshot unreadable(String from, Exception cause, String models) {
        StringBuilder m = new StringBuilder("model extract: cannot read the trainer's state from ").append(from)
                .append(" with the State Processor API: ").append(rootMessage(cause)).append('\n');
        if (models == null) {
            m.append("The job's model export is off (siamstream.export.models = none), so there are no committed"
                    + " artifacts to fall back on.");
            return new UnreadableSnapshot(m.toString(), cause);
        }
        try {
            Path dir = new Path(models);
            FileSystem fs = dir.getFileSystem();
            List<Long> versions = ModelArtifactSink.committedVersions(fs, dir);
            long latest = ModelArtifactSink.latest(fs, dir);
            if (versions.isEmpty()) {
                m.append("The job's models directory ").append(models).append(" holds no committed version.");
            } else {
                m.append("The job's committed artifacts are the way out: ").append(models).append(" holds versions ")
                        .append(versions.stream().map(String::valueOf).collect(Collectors.joining(", ")))
                        .append(latest >= 0 ? "; LATEST = " + latest + " (" + new Path(dir, String.valueOf(latest)) + ")"
                                : "; no LATEST")
                        .append(". Each is a complete version directory (encoder.safetensors, model.json).");
            }
        } catch (IOException | RuntimeException e) {
            m.append("The job's models directory ").append(models).append(" cannot be listed either: ")
                    .append(e.getMessage());
        }
        return new UnreadableSnapshot(m.toString(), cause);
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + root + ")";
    }

    private static void write(FileSystem fs, Path path, byte[] data) throws IOException {
        try (OutputStream out = fs.create(path, FileSystem.WriteMode.NO_OVERWRITE)) {
            out.write(data);
        }
    }
}
