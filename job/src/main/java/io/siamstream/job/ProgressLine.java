package io.siamstream.job;

import io.siamstream.record.EvalReport;
import io.siamstream.record.StepMetrics;
import java.util.Locale;
import org.apache.flink.streaming.api.functions.co.CoProcessFunction;
import org.apache.flink.util.Collector;

/** Turns step metrics and evaluation reports into a human progress line every {@code every} steps and per report. */
public class ProgressLine extends CoProcessFunction<StepMetrics, EvalReport, String> {

    private static final long serialVersionUID = 1L;

    private final int every;
    private transient EvalReport latest;

    public ProgressLine(int every) {
        this.every = every;
    }

    @Override
    public void processElement1(StepMetrics m, Context ctx, Collector<String> out) {
        if (m.step % every == 0 || m.skipped) {
            out.collect(String.format(Locale.ROOT,
                    "step %6d | %7.1f pairs/s | loss %+.4f%s | projection std %.4f output std %.4f (healthy %.4f) | lr %.4f | kNN %s",
                    m.step, m.pairsPerSecond, m.loss, m.skipped ? " (skipped)" : "", m.projectionStd, m.outputStd,
                    m.healthyStd, m.lr,
                    latest == null ? "-" : String.format(Locale.ROOT, "%.3f (v%d)", latest.knnTop1, latest.version)));
        }
    }

    @Override
    public void processElement2(EvalReport r, Context ctx, Collector<String> out) {
        latest = r;
        out.collect(String.format(Locale.ROOT, "evaluation of model v%d: kNN top-1 %.3f%s, feature std %.4f (healthy %.4f), %.0f ms",
                r.version, r.knnTop1, Double.isNaN(r.linearTop1) ? "" : String.format(Locale.ROOT, ", linear top-1 %.3f", r.linearTop1),
                r.featureStd, r.healthyFeatureStd, r.evalMillis));
    }
}
