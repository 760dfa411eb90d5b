package io.siamstream.connectors.dataset;

import io.siamstream.eval.EvaluationSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the evaluation data of the kNN monitor and linear probe from loaded image sets. */
public final class EvaluationSets {

    private static final Logger LOG = LoggerFactory.getLogger(EvaluationSets.class);

    private EvaluationSets() {}

    /**
     * The labelled images of {@code bank} (memory bank and probe training set) and {@code queries}, normalised with
     * the dataset's mean and std. Unlabelled images are left out; what the loaders rejected is logged (the job's
     * dead letter reports the training input, not the evaluation data). Fails when either side has no labelled image.
     */
    public static EvaluationSet of(ImageSet bank, ImageSet queries, float[] mean, float[] std, int numClasses) {
        ImageSet b = bank.labelledOnly();
        ImageSet q = queries.labelledOnly();
        boolean same = bank.source().equals(queries.source()) && bank.rejects().equals(queries.rejects());
        for (ImageSet s : same ? new ImageSet[] {bank} : new ImageSet[] {bank, queries}) {
            for (Reject r : s.rejects()) {
                LOG.warn("evaluation data {}: left out {}", s.source(), r);
            }
        }
        if (b.count() == 0 || q.count() == 0) {
            throw new IllegalStateException("evaluation: no labelled images in " + (b.count() == 0 ? bank : queries).source()
                    + " (" + b.count() + " in the bank, " + q.count() + " queries)");
        }
        if (numClasses < 2) {
            throw new IllegalStateException("evaluation: " + numClasses + " classes; kNN needs at least 2");
        }
        return new EvaluationSet(b.normalized(mean, std), b.labels(), q.normalized(mean, std), q.labels(), numClasses);
    }
}
