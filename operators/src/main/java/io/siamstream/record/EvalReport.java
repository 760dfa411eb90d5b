package io.siamstream.record;

/** The result of evaluating one model version on a frozen encoder. A Flink POJO. */
public class EvalReport {

    public long version;
    public double knnTop1;
    /** NaN when no linear probe ran for this version. */
    public double linearTop1 = Double.NaN;
    /** Std of the l2-normalised encoder features per dimension, averaged, over the evaluation queries. */
    public double featureStd;
    /** 1 / sqrt(feature dim): the healthy value of featureStd. */
    public double healthyFeatureStd;
    public double evalMillis;
    public long wallTimeMillis;

    public EvalReport() {}

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT,
                "{\"version\":%d,\"knn_top1\":%s,\"linear_top1\":%s,\"feature_std\":%s,\"healthy_feature_std\":%s,"
                        + "\"eval_ms\":%.1f,\"wall_time_ms\":%d}",
                version, JsonNumber.of(knnTop1, "%.4f"), JsonNumber.of(linearTop1, "%.4f"),
                JsonNumber.of(featureStd, "%.6f"), JsonNumber.of(healthyFeatureStd, "%.6f"), evalMillis, wallTimeMillis);
    }
}
