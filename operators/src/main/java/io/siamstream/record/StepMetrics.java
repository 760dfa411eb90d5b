package io.siamstream.record;

/** What the training operator emits for every step: the main output of the trainer. A Flink POJO. */
public class StepMetrics {

    public int replica;
    public long step;
    public double loss;
    public boolean skipped;
    public double collapse;
    public double outputCollapse;
    public double collapseReference;
    public double lr;
    public double stepMillis;
    public double pairsPerSecond;
    public long firstSeq;

    public StepMetrics() {}

    /** The step as one JSON object; a skipped step's non-finite loss (and any other non-finite number) is null. */
    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT,
                "{\"replica\":%d,\"step\":%d,\"loss\":%s,\"skipped\":%s,\"collapse_z\":%s,\"collapse_p\":%s,"
                        + "\"collapse_ref\":%s,\"lr\":%s,\"step_ms\":%.2f,\"pairs_per_s\":%s,\"first_seq\":%d}",
                replica, step, JsonNumber.of(loss, "%.6f"), skipped, JsonNumber.of(collapse, "%.6f"),
                JsonNumber.of(outputCollapse, "%.6f"), JsonNumber.of(collapseReference, "%.6f"),
                JsonNumber.of(lr, "%.6g"), stepMillis, JsonNumber.of(pairsPerSecond, "%.1f"), firstSeq);
    }
}
