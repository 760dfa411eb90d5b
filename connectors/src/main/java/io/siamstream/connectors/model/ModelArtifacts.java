package io.siamstream.connectors.model;

import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import io.siamstream.model.Encoders;
import io.siamstream.record.ModelUpdate;
import io.siamstream.train.LearnerState;
import io.siamstream.train.LearnerStateCodec;
import io.siamstream.train.Tensor;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The files of one version directory, built from a {@link ModelUpdate}: {@code encoder.safetensors} (PyTorch
 * {@code state_dict} names, see {@link TorchNames}), optionally {@code heads.safetensors} ({@code projector.*},
 * {@code predictor.*}), and {@code model.json}. The bytes are a pure function of the update, so a version written
 * twice (a retry, a recovered job) is the same file with the same sha256.
 *
 * <p>{@code num_batches_tracked}: DJL's BatchNorm does not count its updates. PyTorch uses the count only where
 * momentum is None (a cumulative average), which siamstream never uses (momentum 0.1), so any value loads and
 * infers identically. Each BatchNorm gets the version's training step (applied optimizer updates) as an int64
 * scalar: the same for every BatchNorm, stable across restores, and documented in model.json. (A PyTorch run counts
 * forward passes in training mode: twice per step for two views; the step is not that number.)
 *
 * <p>Layout of the models directory: {@code <version>/} (committed), {@code LATEST} (the newest committed version,
 * decimal text and a newline), {@code .staging/} (hidden, written by the sink, renamed into place at commit).
 */
public final class ModelArtifacts {

    public static final String ENCODER_FILE = "encoder.safetensors";
    public static final String HEADS_FILE = "heads.safetensors";
    public static final String MODEL_JSON = "model.json";
    public static final String LATEST = "LATEST";
    public static final String STAGING = ".staging";
    /** The PyTorch modules the names follow (bench/pytorch_step.py, tools/safetensors_embed.py). */
    public static final String PYTORCH_MODULE = "bench/pytorch_step.py conv_net / resnet18_cifar (nn.Sequential)";

    /** The three files of a version. {@code heads} is null where heads are not exported. */
    public record Files(byte[] encoder, byte[] heads, ModelArtifact json) {}

    private ModelArtifacts() {}

    /** The version directory's files for an update, as {@code spec} describes the model. */
    public static Files of(ArtifactSpec spec, ModelUpdate update) {
        LearnerState encoder = LearnerStateCodec.decode(update.encoderState);
        long step = encoder.step();
        byte[] weights = encoderWeights(encoder.withPrefix(LearnerState.PARAM), step).toBytes();
        byte[] heads = null;
        if (spec.heads()) {
            if (update.headsState == null) {
                throw new IllegalStateException("heads are to be exported, but the update of version " + update.version
                        + " carries none");
            }
            heads = headWeights(LearnerStateCodec.decode(update.headsState).withPrefix(LearnerState.PARAM),
                    frozenHeadParameters(spec), step).toBytes();
        }
        ModelArtifact json = new ModelArtifact();
        json.version = update.version;
        json.step = step;
        json.epoch = update.epoch;
        var learner = spec.learner();
        json.method = learner.method().name();
        json.encoder.kind = learner.encoder().kind().name().toLowerCase(Locale.ROOT);
        json.encoder.width = learner.encoder().widthMultiplier();
        json.encoder.pool_grid = learner.encoder().poolGrid();
        json.encoder.channels = learner.encoder().inChannels();
        json.encoder.feature_dim = Encoders.create(learner.encoder()).featureDim();
        json.encoder.pytorch_module = PYTORCH_MODULE;
        json.input.channels = learner.imageChannels();
        json.input.height = learner.imageSize();
        json.input.width = learner.imageSize();
        json.input.mean = spec.mean().clone();
        json.input.std = spec.std().clone();
        json.seed = learner.seed();
        json.fingerprint = update.fingerprint;
        json.metrics.loss = ModelArtifact.finite(update.loss);
        json.metrics.projection_std = ModelArtifact.finite(update.projectionStd);
        json.metrics.output_std = ModelArtifact.finite(update.outputStd);
        json.weights.file = ENCODER_FILE;
        json.weights.sha256 = sha256(weights);
        json.weights.bytes = weights.length;
        if (heads != null) {
            json.heads = new ModelArtifact.Weights();
            json.heads.file = HEADS_FILE;
            json.heads.sha256 = sha256(heads);
            json.heads.bytes = heads.length;
        }
        json.wall_time_ms = update.wallTimeMillis;
        return new Files(weights, heads, json);
    }

    /** The encoder's tensors (DJL names inside the encoder) as a PyTorch state_dict. */
    public static SafetensorsWriter encoderWeights(Map<String, Tensor> encoder, long numBatchesTracked) {
        SafetensorsWriter w = new SafetensorsWriter();
        Set<String> seen = new HashSet<>();
        encoder.forEach((name, t) -> {
            String torch = TorchNames.encoder(name);
            add(w, seen, torch, t);
            if (TorchNames.isRunningVar(name)) {
                add(w, seen, TorchNames.module(torch) + ".num_batches_tracked", numBatchesTracked);
            }
        });
        return w;
    }

    /**
     * The heads' tensors (DJL names inside the online network, e.g. {@code 02projector_01fc1_weight}) as a PyTorch
     * state_dict; {@code frozen} names the gamma/beta that DJL keeps for a BatchNorm without affine parameters,
     * which PyTorch does not have.
     */
    public static SafetensorsWriter headWeights(Map<String, Tensor> network, Set<String> frozen, long numBatchesTracked) {
        SafetensorsWriter w = new SafetensorsWriter();
        Set<String> seen = new HashSet<>();
        network.forEach((name, t) -> {
            if (name.startsWith(io.siamstream.train.Learner.ENCODER_PREFIX) || frozen.contains(name)) {
                return;
            }
            String torch = TorchNames.head(name);
            add(w, seen, torch, t);
            if (TorchNames.isRunningVar(name)) {
                add(w, seen, TorchNames.module(torch) + ".num_batches_tracked", numBatchesTracked);
            }
        });
        return w;
    }

    /** BatchNorm scale/shift parameters of the heads that are not trained (affine=false): not in PyTorch's state_dict. */
    public static Set<String> frozenHeadParameters(ArtifactSpec spec) {
        var learner = spec.learner();
        var network = learner.method().create(learner.encoder(), learner.heads()).online();
        Set<String> out = new HashSet<>();
        for (Pair<String, Parameter> p : network.getParameters()) {
            String name = p.getKey();
            if ((name.endsWith("_gamma") || name.endsWith("_beta")) && !p.getValue().requiresGradient()) {
                out.add(name);
            }
        }
        return out;
    }

    private static void add(SafetensorsWriter w, Set<String> seen, String torch, Tensor t) {
        if (!seen.add(torch)) {
            throw new IllegalStateException("two parameters map to the PyTorch name " + torch);
        }
        w.f32(torch, t.shape(), t.data());
    }

    private static void add(SafetensorsWriter w, Set<String> seen, String torch, long value) {
        if (!seen.add(torch)) {
            throw new IllegalStateException("two parameters map to the PyTorch name " + torch);
        }
        w.i64(torch, new long[0], new long[] {value});
    }

    public static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The LATEST file's content for a version. */
    public static byte[] latest(long version) {
        return (version + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** A committed version directory's name is its version in decimal; anything else (LATEST, .staging) is not one. */
    public static long versionOf(String directoryName) {
        if (directoryName.isEmpty() || directoryName.length() > 19) {
            return -1;
        }
        for (int i = 0; i < directoryName.length(); i++) {
            if (!Character.isDigit(directoryName.charAt(i))) {
                return -1;
            }
        }
        return Long.parseLong(directoryName);
    }
}
