package io.siamstream.flink;

import io.siamstream.eval.EvaluationSet;
import io.siamstream.eval.Evaluator;
import io.siamstream.eval.FrozenEncoder;
import io.siamstream.eval.KnnClassifier;
import io.siamstream.eval.LinearProbe;
import io.siamstream.record.EvalReport;
import io.siamstream.record.ModelUpdate;
import io.siamstream.train.LearnerConfig;
import io.siamstream.train.LearnerStateCodec;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.function.SerializableSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluates every model update on a frozen encoder rebuilt from the update (never the trainer's live model):
 * kNN top-1 always, the linear probe every {@code linearEvery}-th evaluation, the collapse indicator of the
 * features. Emits EvalReports, logs them, and exposes the latest as gauges.
 */
public class EvaluationFunction extends ProcessFunction<ModelUpdate, EvalReport> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(EvaluationFunction.class);

    private final LearnerConfig config;
    private final SerializableSupplier<EvaluationSet> data;
    private final int linearEvery;

    private transient Evaluator evaluator;
    private transient long evaluations;
    private transient volatile EvalReport latest;
    private transient Counter rejected;

    public EvaluationFunction(LearnerConfig config, SerializableSupplier<EvaluationSet> data, int linearEvery) {
        if (linearEvery < 0) {
            throw new IllegalArgumentException("eval.linear-every: " + linearEvery + " must be >= 0 (0 = never)");
        }
        this.config = config;
        this.data = data;
        this.linearEvery = linearEvery;
    }

    @Override
    public void open(OpenContext openContext) {
        EvaluationSet set = data.get();
        evaluator = new Evaluator(set, KnnClassifier.standard(set.numClasses()), LinearProbe.standard(set.numClasses()));
        var metrics = getRuntimeContext().getMetricGroup();
        metrics.gauge("knnTop1", () -> latest == null ? Double.NaN : latest.knnTop1);
        metrics.gauge("linearTop1", () -> latest == null ? Double.NaN : latest.linearTop1);
        metrics.gauge("featureCollapse", () -> latest == null ? Double.NaN : latest.collapse);
        metrics.gauge("evaluatedVersion", () -> latest == null ? -1L : latest.version);
        rejected = metrics.counter("rejectedUpdates");
    }

    @Override
    public void processElement(ModelUpdate update, Context ctx, Collector<EvalReport> out) {
        if (!config.modelFingerprint().equals(update.fingerprint)) {
            rejected.inc();
            LOG.warn("model update {} is for '{}', not this evaluation's '{}': skipped", update.version,
                    update.fingerprint, config.modelFingerprint());
            return;
        }
        evaluations++;
        boolean linear = linearEvery > 0 && evaluations % linearEvery == 0;
        Evaluator.Result r;
        try (FrozenEncoder encoder = new FrozenEncoder(config.encoder(), config.imageSize(),
                LearnerStateCodec.decode(update.encoderState))) {
            r = evaluator.evaluate(encoder, linear);
        }
        EvalReport report = new EvalReport();
        report.version = update.version;
        report.knnTop1 = r.knnTop1();
        report.linearTop1 = r.linearTop1();
        report.collapse = r.collapse();
        report.collapseReference = r.collapseReference();
        report.evalMillis = r.millis();
        report.wallTimeMillis = System.currentTimeMillis();
        latest = report;
        LOG.info("evaluation {}", report);
        out.collect(report);
    }
}
