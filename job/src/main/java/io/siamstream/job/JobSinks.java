package io.siamstream.job;

import io.siamstream.connectors.files.JsonLinesSink;
import io.siamstream.record.DeadLetter;
import io.siamstream.record.EvalReport;
import io.siamstream.record.ModelUpdate;
import io.siamstream.record.StepMetrics;
import org.apache.flink.api.connector.sink2.Sink;

/** Where the job's outputs go; tests pass their own. {@code models} may be null (model updates are then only evaluated). */
public record JobSinks(Sink<StepMetrics> steps, Sink<EvalReport> reports, Sink<DeadLetter> deadLetters,
                       Sink<ModelUpdate> models) {

    /** Exactly-once JSON-lines files under {@code directory}: steps/, reports/, dead-letters/. */
    public static JobSinks files(String directory) {
        return new JobSinks(JsonLinesSink.to(directory + "/steps"), JsonLinesSink.to(directory + "/reports"),
                JsonLinesSink.to(directory + "/dead-letters"), null);
    }
}
