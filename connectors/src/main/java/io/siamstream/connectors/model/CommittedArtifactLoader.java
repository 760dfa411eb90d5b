package io.siamstream.connectors.model;

import io.siamstream.eval.EncoderVersion;
import io.siamstream.eval.EncoderVersionLoader;
import io.siamstream.eval.ModelVersionRejected;
import io.siamstream.model.EncoderConfig;
import io.siamstream.model.EncoderKind;
import io.siamstream.model.Encoders;
import io.siamstream.record.ModelUpdate;
import io.siamstream.train.LearnerState;
import io.siamstream.train.Tensor;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a committed version directory ({@code model.json}, {@code encoder.safetensors}) from an
 * {@link ArtifactStore} (in the job: any Flink file system; in a plain Java service: local files) into an
 * {@link EncoderVersion}: the encoder rebuilt from model.json's architecture, the
 * PyTorch-named tensors mapped back to DJL's names and checked against the architecture's shapes.
 *
 * <p>For an announcement ({@link #load}), the weights' sha256 must be the announced one. What is wrong is told
 * apart: files not there (yet: {@link ModelVersionRejected#MISSING}, retryable), unreadable (truncated, not
 * safetensors, bad model.json), another checksum, weights that do not fit the architecture.
 */
public final class CommittedArtifactLoader implements EncoderVersionLoader {

    private static final long serialVersionUID = 1L;

    /** Where version directories are read from; a file that is not there is a {@link FileNotFoundException}. */
    @FunctionalInterface
    public interface ArtifactStore extends Serializable {
        byte[] read(String directory, String file) throws IOException;
    }

    /** Local files (java.nio), for services without Flink. */
    public static ArtifactStore localFiles() {
        return (directory, file) -> {
            try {
                return Files.readAllBytes(java.nio.file.Path.of(directory, file));
            } catch (NoSuchFileException e) {
                throw new FileNotFoundException(e.getFile());
            }
        };
    }

    private final ArtifactStore store;

    public CommittedArtifactLoader(ArtifactStore store) {
        this.store = store;
    }

    @Override
    public EncoderVersion load(ModelUpdate announcement) throws ModelVersionRejected {
        return read(store, announcement.uri, announcement.sha256);
    }

    /**
     * The version in {@code dir}; {@code sha256} (hex) is what the weights must hash to, or null to take model.json's.
     */
    public static EncoderVersion read(ArtifactStore store, String dir, String sha256) throws ModelVersionRejected {
        ModelArtifact info;
        byte[] weights;
        try {
            info = ModelArtifact.parse(new String(store.read(dir, ModelArtifacts.MODEL_JSON), StandardCharsets.UTF_8));
            weights = store.read(dir, info.weights.file);
        } catch (FileNotFoundException e) {
            throw new ModelVersionRejected(ModelVersionRejected.MISSING, "not found: " + e.getMessage(), true, e);
        } catch (IOException e) {
            throw new ModelVersionRejected(ModelVersionRejected.MISSING, "cannot read: " + e, true, e);
        } catch (RuntimeException e) {
            throw new ModelVersionRejected(ModelVersionRejected.UNREADABLE, "model.json: " + e.getMessage(), false, e);
        }
        SafetensorsReader.Contents contents;
        try {
            contents = SafetensorsReader.read(weights);
        } catch (RuntimeException e) {
            throw new ModelVersionRejected(ModelVersionRejected.UNREADABLE, info.weights.file + " (" + weights.length
                    + " bytes): " + e.getMessage(), false, e);
        }
        String expected = sha256 != null ? sha256 : info.weights.sha256;
        String actual = ModelArtifacts.sha256(weights);
        if (!actual.equals(expected)) {
            throw new ModelVersionRejected(ModelVersionRejected.CHECKSUM, info.weights.file + " has sha256 " + actual
                    + ", expected " + expected, false, null);
        }
        try {
            EncoderConfig config = new EncoderConfig(EncoderKind.parse("model.json encoder.kind", info.encoder.kind),
                    info.encoder.channels, info.encoder.width, info.encoder.pool_grid);
            if (info.input.height != info.input.width) {
                throw new IllegalArgumentException("model.json: input " + info.input.height + "x" + info.input.width
                        + " is not square");
            }
            return new EncoderVersion(info.version, config, info.input.channels, info.input.height,
                    info.input.mean, info.input.std, state(config, contents, info));
        } catch (RuntimeException e) {
            throw new ModelVersionRejected(ModelVersionRejected.ARCHITECTURE, String.valueOf(e.getMessage()), false, e);
        }
    }

    /** The encoder's tensors under DJL names ({@code param/...}), from the PyTorch-named safetensors, shapes checked. */
    public static LearnerState state(EncoderConfig config, SafetensorsReader.Contents file, ModelArtifact info) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (var p : Encoders.create(config).block().getParameters()) {
            String torch = TorchNames.encoder(p.getKey());
            var t = file.tensors().get(torch);
            if (t == null || t.floats() == null) {
                throw new IllegalArgumentException("encoder.safetensors has no float tensor " + torch + " for a "
                        + info.encoder.kind + " encoder");
            }
            tensors.put(LearnerState.PARAM + p.getKey(), new Tensor(t.shape(), t.floats()));
        }
        return new LearnerState(info.fingerprint, info.step, 0, info.seed, tensors);
    }
}
