package io.siamstream.eval;

/**
 * Evaluates a frozen encoder on an {@link EvaluationSet}: weighted kNN top-1 (k = 200, T = 0.1) every time, a linear
 * probe when asked, and the std of the encoder's l2-normalised features (featureStd, the third collapse indicator) of the query set.
 */
public final class Evaluator {

    /** What one evaluation found. linearTop1 is NaN when no probe ran. */
    public record Result(double knnTop1, double linearTop1, double featureStd, double healthyFeatureStd, double millis) {}

    private final EvaluationSet data;
    private final KnnClassifier knn;
    private final LinearProbe probe;

    public Evaluator(EvaluationSet data, KnnClassifier knn, LinearProbe probe) {
        this.data = data;
        this.knn = knn;
        this.probe = probe;
    }

    public Result evaluate(FrozenEncoder encoder, boolean withLinearProbe) {
        long start = System.nanoTime();
        int dim = encoder.featureDim();
        float[] bank = encoder.embed(data.bank(), data.bankLabels().length);
        float[] queries = encoder.embed(data.queries(), data.queryLabels().length);
        // kNN, probe and indicator run on the encoder's device, not on the engine's default (with several GPUs in a
        // TaskManager that would be GPU 0, whichever the evaluation was given)
        var device = encoder.device();
        double knnTop1 = knn.accuracy(device, bank, data.bankLabels(), queries, data.queryLabels(), dim);
        double linear = withLinearProbe
                ? probe.accuracy(device, bank, data.bankLabels(), queries, data.queryLabels(), dim)
                : Double.NaN;
        double featureStd = CollapseIndicator.ofFeatures(device, queries, data.queryLabels().length, dim);
        return new Result(knnTop1, linear, featureStd, CollapseIndicator.reference(dim), (System.nanoTime() - start) / 1e6);
    }
}
