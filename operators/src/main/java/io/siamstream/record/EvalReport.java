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
                "{\"version\":%d,\"knn_top1\":%.4f,\"linear_top1\":%s,\"collapse\":%.6f,\"collapse_ref\":%.6f,"
                        + "\"eval_ms\":%.1f,\"wall_time_ms\":%d}",
                version, knnTop1, Double.isNaN(linearTop1) ? "null" : String.format(java.util.Locale.ROOT, "%.4f", linearTop1),
                collapse, collapseReference, evalMillis, wallTimeMillis);
    }
}
