package io.siamstream.record;

/** The result of evaluating one model version on a frozen encoder. A Flink POJO. */
public class EvalReport {

    public long version;
    public double knnTop1;
    /** NaN when no linear probe ran for this version. */
    public double linearTop1 = Double.NaN;
    public double collapse;
    public double collapseReference;
    public double evalMillis;
    public long wallTimeMillis;

    public EvalReport() {}

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT,
                "{\"version\":%d,\"knn_top1\":%s,\"linear_top1\":%s,\"collapse\":%s,\"collapse_ref\":%s,"
                        + "\"eval_ms\":%.1f,\"wall_time_ms\":%d}",
                version, JsonNumber.of(knnTop1, "%.4f"), JsonNumber.of(linearTop1, "%.4f"),
                JsonNumber.of(collapse, "%.6f"), JsonNumber.of(collapseReference, "%.6f"), evalMillis, wallTimeMillis);
    }
}
