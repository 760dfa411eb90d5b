package io.siamstream.flink;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import io.siamstream.eval.EvaluationSet;
import io.siamstream.eval.Evaluator;
import io.siamstream.eval.FrozenEncoder;
import io.siamstream.eval.KnnClassifier;
import io.siamstream.eval.LinearProbe;
import io.siamstream.record.EvalReport;
import io.siamstream.record.ModelUpdate;
import io.siamstream.train.DeviceSelection;
import io.siamstream.train.Engines;
import io.siamstream.train.LearnerConfig;
import io.siamstream.train.LearnerStateCodec;
import org.apache.flink.util.function.SerializableSupplier;

/**
 * The evaluation the job runs: a frozen encoder rebuilt from the update (never the trainer's live model), weighted
 * kNN top-1 (k = 200, T = 0.1), the linear probe when asked, and the feature std (collapse indicator of the features). The
 * evaluation data is loaded on the worker thread, at the first evaluation, not while the task starts. The frozen
 * encoder, the kNN, the probe and the indicator run on the device the operator decided from {@code train.device}
 * and the TaskManager's GPUs, by the trainer's rule.
 */
final class StandardEvaluation implements EvaluationOperator.EvaluationFactory {

    private static final long serialVersionUID = 1L;

    private final LearnerConfig config;
    private final SerializableSupplier<EvaluationSet> data;

    StandardEvaluation(LearnerConfig config, SerializableSupplier<EvaluationSet> data) {
        this.config = config;
        this.data = data;
    }

    @Override
    public String deviceOption() {
        return config.device();
    }

    /** Without a decided device: the option resolved without runtime-assigned GPUs. */
    @Override
    public EvaluationOperator.Evaluation create() {
        return create(DeviceSelection.resolve(config.device()));
    }

    @Override
    public EvaluationOperator.Evaluation create(Device device) {
        EvaluationSet set = data.get();
        Evaluator evaluator = new Evaluator(set, KnnClassifier.standard(set.numClasses()),
                LinearProbe.standard(set.numClasses()));
        Engines.pyTorch();
        // grad mode is per thread: this worker thread only ever runs inference
        JniUtils.setGradMode(false);
        return (update, linear) -> evaluate(evaluator, device, update, linear);
    }

    private EvalReport evaluate(Evaluator evaluator, Device device, ModelUpdate update, boolean linear) {
        Evaluator.Result r;
        try (FrozenEncoder encoder = new FrozenEncoder(config.encoder(), config.imageSize(),
                LearnerStateCodec.decode(update.encoderState), device)) {
            r = evaluator.evaluate(encoder, linear);
        }
        EvalReport report = new EvalReport();
        report.version = update.version;
        report.knnTop1 = r.knnTop1();
        report.linearTop1 = r.linearTop1();
        report.featureStd = r.featureStd();
        report.healthyFeatureStd = r.healthyFeatureStd();
        report.evalMillis = r.millis();
        report.wallTimeMillis = System.currentTimeMillis();
        return report;
    }
}
