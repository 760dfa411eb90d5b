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

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT,
                "{\"replica\":%d,\"step\":%d,\"loss\":%.6f,\"skipped\":%s,\"collapse_z\":%.6f,\"collapse_p\":%.6f,"
                        + "\"collapse_ref\":%.6f,\"lr\":%.6g,\"step_ms\":%.2f,\"pairs_per_s\":%.1f,\"first_seq\":%d}",
                replica, step, loss, skipped, collapse, outputCollapse, collapseReference, lr, stepMillis,
                pairsPerSecond, firstSeq);
    }
}
