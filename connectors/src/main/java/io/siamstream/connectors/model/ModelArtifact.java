package io.siamstream.connectors.model;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;

/**
 * {@code model.json}: what a version directory holds and how to use it. Written with the weights, read by
 * {@code model embed} and by anyone loading the encoder elsewhere. Non-finite metrics are written as null.
 * Field names are snake_case JSON; {@link #FORMAT_VERSION} changes when a field changes meaning.
 */
public final class ModelArtifact {

    public static final int FORMAT_VERSION = 1;

    public int format_version = FORMAT_VERSION;
    public long version;
    public long step;
    public long epoch;
    public String method;
    public Encoder encoder = new Encoder();
    public Input input = new Input();
    public long seed;
    public String fingerprint;
    public Metrics metrics = new Metrics();
    public Weights weights = new Weights();
    /** The projector and predictor, or null where they were not exported. */
    public Weights heads;
    public long wall_time_ms;
    /** Where {@code model extract} rebuilt this version out of a savepoint or checkpoint; null where the job published it. */
    public Extraction extracted;

    public static final class Encoder {
        /** convnet, resnet18_cifar or resnet50. */
        public String kind;
        public double width;
        /** 1: global average pool; g: the mean of each cell of a g x g grid, flattened (AdaptiveAvgPool2d(g)). */
        public int pool_grid = 1;
        public int channels;
        public int feature_dim;
        /** The PyTorch module the names follow. */
        public String pytorch_module;
    }

    public static final class Input {
        public int channels;
        public int height;
        public int width;
        /** Per channel: x' = (x / 255 - mean) / std, pixels in [0, 255], N x C x H x W float32. */
        public float[] mean;
        public float[] std;
    }

    public static final class Metrics {
        public Double loss;
        public Double projection_std;
        public Double output_std;
    }

    public static final class Weights {
        public String file;
        public String sha256;
        public long bytes;
        public String names = "pytorch state_dict";
        /** What num_batches_tracked holds (DJL does not count BN updates). */
        public String num_batches_tracked = "the training step (applied updates) of this version";
    }

    /** What a version rebuilt from a snapshot came from, and which of its fields the snapshot could not give. */
    public static final class Extraction {
        /** The savepoint or checkpoint directory (its _metadata). */
        public String snapshot;
        public long checkpoint_id;
        /** savepoint (canonical or native) or checkpoint; aligned or unaligned. */
        public String kind;
        /** Records in flight between operators that the snapshot holds (unaligned checkpoints): not part of the model. */
        public long in_flight_bytes;
        public int replica;
        /**
         * Whether the job had published this very step: then epoch, metrics and wall_time_ms are the publication's
         * (from the trainer's state); otherwise metrics are null and wall_time_ms is 0.
         */
        public boolean published;
        public long extracted_at_ms;
    }

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeNulls().create();

    public String toJson() {
        return GSON.toJson(this);
    }

    public byte[] toBytes() {
        return (toJson() + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** Parses model.json; fails on a format version this build does not read. */
    public static ModelArtifact parse(String json) {
        JsonObject o = com.google.gson.JsonParser.parseString(json).getAsJsonObject();
        int v = o.has("format_version") ? o.get("format_version").getAsInt() : -1;
        if (v != FORMAT_VERSION) {
            throw new IllegalArgumentException("model.json: format_version " + v + " is not readable; this build reads "
                    + FORMAT_VERSION);
        }
        return GSON.fromJson(o, ModelArtifact.class);
    }

    static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
