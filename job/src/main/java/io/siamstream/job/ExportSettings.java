package io.siamstream.job;

import io.siamstream.connectors.model.ArtifactSpec;
import io.siamstream.connectors.model.ModelArtifactSink;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.Path;

/** The validated model-export options ({@code siamstream.export.*}); bad values fail at start naming the option. */
public final class ExportSettings {

    private ExportSettings() {}

    /** The artifact sink of the job, or null where {@code siamstream.export.models} is 'none'. */
    public static ModelArtifactSink from(Configuration conf, JobSettings settings) {
        String models = conf.getOptional(SiamstreamOptions.EXPORT_MODELS).map(String::trim)
                .orElse(settings.output() + "/models");
        if (models.equalsIgnoreCase("none")) {
            return null;
        }
        String option = SiamstreamOptions.EXPORT_MODELS.key();
        if (models.isEmpty()) {
            throw new IllegalArgumentException(option + ": empty; allowed: a Flink FileSystem URI or path, or 'none'");
        }
        try {
            new Path(models).getFileSystem();
        } catch (Exception e) {
            throw new IllegalArgumentException(option + ": '" + models + "' is not a usable Flink FileSystem path: "
                    + e.getMessage(), e);
        }
        if (!conf.get(CheckpointingOptions.ENABLE_CHECKPOINTS_AFTER_TASKS_FINISH)) {
            // without the final checkpoint the versions of the end of a bounded input would never commit
            throw new IllegalArgumentException(CheckpointingOptions.ENABLE_CHECKPOINTS_AFTER_TASKS_FINISH.key()
                    + ": false is not allowed with model export (" + option + "): the last versions commit with the"
                    + " final checkpoint; set it to true (the default) or " + option + " to none");
        }
        int keepLast = conf.get(SiamstreamOptions.EXPORT_KEEP_LAST);
        if (keepLast < 1) {
            throw new IllegalArgumentException(SiamstreamOptions.EXPORT_KEEP_LAST.key() + ": " + keepLast
                    + " is out of range; allowed: at least 1 (the version LATEST names is always kept)");
        }
        int keepEvery = conf.get(SiamstreamOptions.EXPORT_KEEP_EVERY);
        if (keepEvery < 0) {
            throw new IllegalArgumentException(SiamstreamOptions.EXPORT_KEEP_EVERY.key() + ": " + keepEvery
                    + " is out of range; allowed: 0 (off) or a positive number of versions");
        }
        return new ModelArtifactSink(new ArtifactSpec(settings.learner(), settings.mean(), settings.std(), models,
                conf.get(SiamstreamOptions.EXPORT_HEADS), keepLast, keepEvery, settings.publishEvery()));
    }
}
