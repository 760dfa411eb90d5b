package io.siamstream.servable;

import io.siamstream.connectors.model.CommittedArtifactLoader;
import io.siamstream.connectors.model.ModelArtifact;
import io.siamstream.connectors.model.ModelArtifacts;
import io.siamstream.eval.EncoderVersion;
import io.siamstream.eval.ImageEmbedder;
import io.siamstream.eval.ModelVersionRejected;
import io.siamstream.train.DeviceSelection;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.ml.linalg.DenseVector;
import org.apache.flink.ml.param.Param;
import org.apache.flink.ml.servable.api.DataFrame;
import org.apache.flink.ml.servable.api.ModelServable;
import org.apache.flink.ml.servable.api.Row;
import org.apache.flink.ml.servable.types.BasicType;
import org.apache.flink.ml.servable.types.DataTypes;

/**
 * A committed encoder version for a plain Java service (Flink ML's {@link ModelServable}, no Flink runtime):
 * {@link #load} reads {@code <models>/<version>/} (model.json and encoder.safetensors, as the job exports them) and
 * {@link #transform} adds the embedding (a DenseVector) and the model version to a {@link DataFrame} of 8-bit images
 * (a BYTE_STRING column of C x H x W bytes), normalised with model.json's mean and std. It reads the version with the
 * job's own reader of committed artifacts ({@link CommittedArtifactLoader}: sha256, architecture and shapes checked)
 * and embeds with the same {@link ImageEmbedder} as the job's embedding operator. It holds native memory: close it.
 */
public final class EncoderServable implements ModelServable<EncoderServable>, EmbeddingParams<EncoderServable>,
        AutoCloseable {

    private final Map<Param<?>, Object> params = new HashMap<>();
    private final String device;
    private ImageEmbedder embedder;
    private ModelArtifact info;

    /** Embeds on {@code auto}: DJL's first GPU where it finds one, else the CPU. */
    public EncoderServable() {
        this("auto");
    }

    /** Embeds on {@code device}: auto, cpu, gpu or gpu:N (as siamstream.train.device). */
    public EncoderServable(String device) {
        DeviceSelection.validate(device);
        this.device = device;
        params.put(IMAGE_COL, IMAGE_COL.defaultValue);
        params.put(EMBEDDING_COL, EMBEDDING_COL.defaultValue);
        params.put(VERSION_COL, VERSION_COL.defaultValue);
    }

    /**
     * The version in {@code path}: a version directory ({@code <models>/<version>}, with model.json), or a models
     * directory, whose {@code LATEST} names the version.
     */
    public static EncoderServable load(String path) throws IOException {
        return load(path, "auto");
    }

    public static EncoderServable load(String path, String device) throws IOException {
        Path dir = versionDirectory(Path.of(path));
        EncoderServable servable = new EncoderServable(device);
        servable.setModelData(CommittedArtifactLoader.localFiles(), dir.toString());
        return servable;
    }

    /** A version directory as it is, or the one a models directory's LATEST names. */
    static Path versionDirectory(Path path) throws IOException {
        if (Files.exists(path.resolve(ModelArtifacts.MODEL_JSON))) {
            return path;
        }
        Path latest = path.resolve(ModelArtifacts.LATEST);
        if (!Files.exists(latest)) {
            throw new IOException(path + ": neither a version directory (" + ModelArtifacts.MODEL_JSON
                    + ") nor a models directory with " + ModelArtifacts.LATEST);
        }
        long version = ModelArtifacts.versionOf(Files.readString(latest, StandardCharsets.UTF_8).trim());
        if (version < 0) {
            throw new IOException(latest + " names no version");
        }
        return path.resolve(String.valueOf(version));
    }

    /** Model data as Flink ML servables take it: model.json, then encoder.safetensors. */
    @Override
    public EncoderServable setModelData(InputStream... modelDataInputs) throws IOException {
        if (modelDataInputs.length != 2) {
            throw new IllegalArgumentException("model data is two streams, model.json and encoder.safetensors; got "
                    + modelDataInputs.length);
        }
        byte[] json = modelDataInputs[0].readAllBytes();
        byte[] weights = modelDataInputs[1].readAllBytes();
        return setModelData((directory, file) -> file.equals(ModelArtifacts.MODEL_JSON) ? json : weights, "streams");
    }

    /** The version through the job's own reader of committed artifacts: checksum, architecture and shapes checked. */
    private EncoderServable setModelData(CommittedArtifactLoader.ArtifactStore store, String dir) throws IOException {
        ModelArtifact parsed;
        EncoderVersion version;
        try {
            parsed = ModelArtifact.parse(new String(store.read(dir, ModelArtifacts.MODEL_JSON), StandardCharsets.UTF_8));
            version = CommittedArtifactLoader.read(store, dir, null);
        } catch (ModelVersionRejected e) {
            throw new IOException(dir + ": " + e.reason() + ": " + e.getMessage(), e);
        }
        ImageEmbedder next = new ImageEmbedder(version, DeviceSelection.resolve(device));
        if (embedder != null) {
            embedder.close();
        }
        embedder = next;
        info = parsed;
        return this;
    }

    /** The loaded version (its training step). */
    public long version() {
        return requireLoaded().version;
    }

    public int featureDim() {
        return requireLoaded().encoder.feature_dim;
    }

    /** The loaded version's model.json. */
    public ModelArtifact artifact() {
        return requireLoaded();
    }

    @Override
    public DataFrame transform(DataFrame input) {
        requireLoaded();
        int column = input.getIndex(getImageCol());
        List<Row> rows = input.collect();
        List<byte[]> images = new ArrayList<>(rows.size());
        for (Row row : rows) {
            Object value = row.get(column);
            if (!(value instanceof byte[])) {
                throw new IllegalArgumentException("column " + getImageCol() + " holds "
                        + (value == null ? "null" : value.getClass().getName())
                        + "; expected byte[] (DataTypes.BYTE_STRING) of C x H x W pixels");
            }
            images.add((byte[]) value);
        }
        float[][] features = embedder.embed(images);
        List<DenseVector> embeddings = new ArrayList<>(rows.size());
        List<Long> versions = new ArrayList<>(rows.size());
        for (float[] f : features) {
            embeddings.add(vector(f));
            versions.add(info.version);
        }
        return input.addColumn(getEmbeddingCol(), DataTypes.VECTOR(BasicType.DOUBLE), embeddings)
                .addColumn(getVersionCol(), DataTypes.LONG, versions);
    }

    /** An embedding as Flink ML's vector (doubles: every float is exactly representable). */
    public static DenseVector vector(float[] features) {
        double[] v = new double[features.length];
        for (int j = 0; j < v.length; j++) {
            v[j] = features[j];
        }
        return new DenseVector(v);
    }

    @Override
    public Map<Param<?>, Object> getParamMap() {
        return params;
    }

    private ModelArtifact requireLoaded() {
        if (info == null) {
            throw new IllegalStateException("no model loaded: use EncoderServable.load(dir) or setModelData");
        }
        return info;
    }

    @Override
    public void close() {
        if (embedder != null) {
            embedder.close();
            embedder = null;
        }
    }
}
