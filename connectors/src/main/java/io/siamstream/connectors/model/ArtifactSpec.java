package io.siamstream.connectors.model;

import io.siamstream.train.LearnerConfig;
import java.io.Serializable;

/**
 * What the model sink needs besides the updates: the learner's configuration (architecture, method, seed), the
 * input normalisation, where the versions go and how many are kept.
 *
 * @param models       the models directory, a Flink FileSystem URI or path ({@code file:///..., s3://..., hdfs://...})
 * @param heads        whether projector and predictor are exported beside the encoder ({@code heads.safetensors})
 * @param keepLast     the newest versions kept (at least 1: the one LATEST names)
 * @param keepEvery    also keep every keepEvery-th published version (step divisible by keepEvery x publishEvery);
 *                     0 keeps none beyond the last ones
 * @param publishEvery the trainer's publication interval in steps
 */
public record ArtifactSpec(LearnerConfig learner, float[] mean, float[] std, String models, boolean heads,
                           int keepLast, int keepEvery, int publishEvery) implements Serializable {

    public ArtifactSpec {
        if (keepLast < 1) {
            throw new IllegalArgumentException("keep-last: " + keepLast + " must be at least 1 (LATEST's version is kept)");
        }
        if (keepEvery < 0) {
            throw new IllegalArgumentException("keep-every: " + keepEvery + " must be 0 (off) or positive");
        }
        if (models == null || models.isBlank()) {
            throw new IllegalArgumentException("models: a directory is required");
        }
    }

    /** Whether retention keeps {@code version} among the committed {@code versions} (sorted ascending). */
    public boolean keeps(long version, java.util.List<Long> sortedVersions) {
        int index = sortedVersions.indexOf(version);
        if (index >= sortedVersions.size() - keepLast) {
            return true;
        }
        return keepEvery > 0 && version % ((long) keepEvery * publishEvery) == 0;
    }
}
