package io.siamstream.job;

import io.siamstream.connectors.files.JsonLinesSink;
import io.siamstream.connectors.model.ModelArtifactSink;
import io.siamstream.record.CatalogueMarker;
import io.siamstream.record.DeadLetter;
import io.siamstream.record.Embedding;
import io.siamstream.record.EvalReport;
import io.siamstream.record.ModelUpdate;
import io.siamstream.record.StepMetrics;
import org.apache.flink.api.connector.sink2.Sink;

/**
 * Where the job's outputs go; tests pass their own. {@code models} may be null (model updates are then only
 * evaluated). {@code artifacts} (may be null) writes every version as a committed artifact directory; where it is
 * set, {@code models} receives the announcements (uri, sha256, size, metrics; no weights) instead of the raw updates.
 * {@code embeddings} and {@code catalogueMarkers} (may be null) receive the embedding stream, where there is one.
 */
public record JobSinks(Sink<StepMetrics> steps, Sink<EvalReport> reports, Sink<DeadLetter> deadLetters,
                       Sink<ModelUpdate> models, ModelArtifactSink artifacts, Sink<Embedding> embeddings,
                       Sink<CatalogueMarker> catalogueMarkers) {

    public JobSinks(Sink<StepMetrics> steps, Sink<EvalReport> reports, Sink<DeadLetter> deadLetters,
                    Sink<ModelUpdate> models, ModelArtifactSink artifacts) {
        this(steps, reports, deadLetters, models, artifacts, null, null);
    }

    public JobSinks(Sink<StepMetrics> steps, Sink<EvalReport> reports, Sink<DeadLetter> deadLetters,
                    Sink<ModelUpdate> models) {
        this(steps, reports, deadLetters, models, null);
    }

    /** Exactly-once JSON-lines files under {@code directory}: steps/, reports/, dead-letters/. */
    public static JobSinks files(String directory) {
        return new JobSinks(JsonLinesSink.to(directory + "/steps"), JsonLinesSink.to(directory + "/reports"),
                JsonLinesSink.to(directory + "/dead-letters"), null);
    }

    /**
     * As {@link #files(String)}, with the model artifacts ({@code artifacts}, null: none) and their announcements as
     * JSON lines in {@code model-updates/} (not {@code models/}, the artifacts' default folder).
     */
    public static JobSinks files(String directory, ModelArtifactSink artifacts) {
        return artifacts == null ? files(directory)
                : files(directory).withModels(JsonLinesSink.to(directory + "/model-updates"), artifacts);
    }

    /**
     * As {@link #files(String, ModelArtifactSink)}, with the embeddings in {@code embeddings/} and the catalogue
     * markers in {@code embedding-sets/} (JSON lines).
     */
    public static JobSinks files(String directory, ModelArtifactSink artifacts, boolean embeddings) {
        JobSinks sinks = files(directory, artifacts);
        return embeddings ? sinks.withEmbeddings(JsonLinesSink.to(directory + "/embeddings"),
                JsonLinesSink.to(directory + "/embedding-sets")) : sinks;
    }

    /** These sinks with {@code embeddings} and {@code catalogueMarkers} for the embedding stream. */
    public JobSinks withEmbeddings(Sink<Embedding> embeddings, Sink<CatalogueMarker> catalogueMarkers) {
        return new JobSinks(steps, reports, deadLetters, models, artifacts, embeddings, catalogueMarkers);
    }

    /** These sinks with {@code models} for the update stream and {@code artifacts} for the artifacts. */
    public JobSinks withModels(Sink<ModelUpdate> models, ModelArtifactSink artifacts) {
        return new JobSinks(steps, reports, deadLetters, models, artifacts, embeddings, catalogueMarkers);
    }

    /** These sinks with {@code artifacts} added; {@code models} then receives the announcements. */
    public JobSinks withArtifacts(ModelArtifactSink artifacts) {
        return new JobSinks(steps, reports, deadLetters, models, artifacts, embeddings, catalogueMarkers);
    }
}
