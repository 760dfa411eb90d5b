package io.siamstream.record;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The records' JSON lines stay valid JSON when a number is not finite (a skipped step, no linear probe yet). */
class RecordJsonTest {

    @Test
    void aSkippedStepsNonFiniteNumbersAreNull() {
        StepMetrics m = new StepMetrics();
        m.step = 7;
        m.loss = Double.NaN;
        m.skipped = true;
        m.projectionStd = Double.POSITIVE_INFINITY;
        m.outputStd = 0.0625;
        m.lr = 0.25;
        assertThat(m.toString())
                .startsWith("{\"replica\":0,\"batch\":0,\"pairs\":0,\"step\":7,\"loss\":null,\"skipped\":true,\"projection_std\":null,"
                        + "\"output_std\":0.062500,")
                .doesNotContain("NaN").doesNotContain("Infinity");
    }

    @Test
    void anEvaluationWithoutALinearProbeHasANullLinearScore() {
        EvalReport r = new EvalReport();
        r.version = 100;
        r.knnTop1 = 0.75;
        assertThat(r.toString()).startsWith("{\"version\":100,\"knn_top1\":0.7500,\"linear_top1\":null,")
                .doesNotContain("NaN");
    }
}
