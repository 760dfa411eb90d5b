package io.siamstream.record;

/** What the training operator emits for every step: the main output of the trainer. A Flink POJO. */
public class StepMetrics {

    public int replica;
    /** The batch this record is about (batch b = seqs [bB, (b+1)B) with sequence batching): unique per record. */
    public long batch;
    /** Pairs the batch trained on: B, fewer when seqs were skipped, 0 or 1 when it was consumed without an update. */
    public int pairs;
    /** Applied updates so far, this one included (a skipped batch repeats the previous count). */
    public long step;
    public double loss;
    public boolean skipped;
    /** Std of the l2-normalised projection z per dimension, averaged (the SimSiam paper's monitor). */
    public double projectionStd;
    /** The same of the online output the loss compares (p; z without a predictor): where SimSiam's collapse shows. */
    public double outputStd;
    /** 1 / sqrt(dim of z): what both are for a healthy, uniformly spread representation; 0 is collapse. */
    public double healthyStd;
    public double lr;
    public double stepMillis;
    public double pairsPerSecond;
    public long firstSeq;

    public StepMetrics() {}

    /** The step as one JSON object; a skipped step's non-finite loss (and any other non-finite number) is null. */
    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT,
                "{\"replica\":%d,\"batch\":%d,\"pairs\":%d,\"step\":%d,\"loss\":%s,\"skipped\":%s,\"projection_std\":%s,\"output_std\":%s,"
                        + "\"healthy_std\":%s,\"lr\":%s,\"step_ms\":%.2f,\"pairs_per_s\":%s,\"first_seq\":%d}",
                replica, batch, pairs, step, JsonNumber.of(loss, "%.6f"), skipped, JsonNumber.of(projectionStd, "%.6f"),
                JsonNumber.of(outputStd, "%.6f"), JsonNumber.of(healthyStd, "%.6f"),
                JsonNumber.of(lr, "%.6g"), stepMillis, JsonNumber.of(pairsPerSecond, "%.1f"), firstSeq);
    }
}
