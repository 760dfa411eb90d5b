package io.siamstream.job;

import io.siamstream.eval.EvaluationSet;
import io.siamstream.eval.Evaluator;
import io.siamstream.eval.FrozenEncoder;
import io.siamstream.eval.KnnClassifier;
import io.siamstream.eval.LinearProbe;
import io.siamstream.train.Learner;
import java.util.Locale;
import org.apache.flink.api.java.utils.ParameterTool;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.function.SerializableSupplier;

/**
 * The two baselines a trained encoder is measured against, computed the way the job evaluates an encoder: kNN top-1
 * on raw pixels (the bar to beat) and kNN top-1 of a randomly initialised encoder (where training starts). It takes
 * the job's own flags ({@code --siamstream.<option> value}, see {@link SiamstreamOptions}) and uses the job's
 * evaluation data ({@link JobSettings#evaluation()}: the train split as the labelled bank, the test split as the
 * queries, normalised with the dataset's mean and std) and the job's classifier ({@link KnnClassifier#standard}:
 * k = 200, T = 0.1, cosine similarity). For raw pixels the feature vector is the C x H x W normalised pixels (784 for
 * Fashion-MNIST); the classifier l2-normalises every vector itself, as it does encoder features. The random encoder
 * is the job's encoder as {@link Learner#create} initialises it from the run seed, frozen like a published one.
 */
public final class KnnBaselines {

    /** What one baseline measured; {@code dim} is the length of the feature vector kNN compared. */
    public record Result(double knnTop1, int bank, int queries, int dim, double seconds) {}

    private KnnBaselines() {}

    public static void main(String[] args) {
        Configuration conf = ParameterTool.fromArgs(args).getConfiguration();
        JobSettings settings = JobSettings.from(conf);
        EvaluationSet set = evaluationSet(settings);   // read once: the full Fashion-MNIST set takes seconds
        Result pixels = rawPixels(settings, set);
        System.out.printf(Locale.ROOT, "raw-pixel kNN top-1 (k=200, T=0.1, cosine) on %s %s: %.4f"
                        + " (%d bank / %d query images, dim %d, %.1f s)%n",
                settings.format(), settings.data(), pixels.knnTop1(), pixels.bank(), pixels.queries(), pixels.dim(),
                pixels.seconds());
        Result random = randomEncoder(settings, set);
        System.out.printf(Locale.ROOT, "random-encoder kNN top-1 (k=200, T=0.1, cosine) on %s %s: %.4f"
                        + " (%s, seed %d, %d bank / %d query images, dim %d, %.1f s)%n",
                settings.format(), settings.data(), random.knnTop1(), settings.learner().encoder(), settings.seed(),
                random.bank(), random.queries(), random.dim(), random.seconds());
    }

    /** The raw-pixel kNN top-1 on the evaluation data of the job with these settings. */
    public static Result rawPixels(JobSettings settings) {
        return rawPixels(settings, evaluationSet(settings));
    }

    /** The raw-pixel kNN top-1 on {@code set}, images shaped as these settings say. */
    public static Result rawPixels(JobSettings settings, EvaluationSet set) {
        long start = System.nanoTime();
        int dim = settings.channels() * settings.imageSize() * settings.imageSize();
        double top1 = KnnClassifier.standard(set.numClasses())
                .accuracy(set.bank(), set.bankLabels(), set.queries(), set.queryLabels(), dim);
        return new Result(top1, set.bankLabels().length, set.queryLabels().length, dim, seconds(start));
    }

    /** The kNN top-1 of the job's freshly initialised (untrained) encoder on the same evaluation data. */
    public static Result randomEncoder(JobSettings settings) {
        return randomEncoder(settings, evaluationSet(settings));
    }

    /** The kNN top-1 of the job's freshly initialised (untrained) encoder on {@code set}. */
    public static Result randomEncoder(JobSettings settings, EvaluationSet set) {
        long start = System.nanoTime();
        try (Learner fresh = Learner.create(settings.learner());
             FrozenEncoder encoder = new FrozenEncoder(settings.learner().encoder(), settings.imageSize(),
                     fresh.encoderSnapshot())) {
            double top1 = new Evaluator(set, KnnClassifier.standard(set.numClasses()),
                    LinearProbe.standard(set.numClasses())).evaluate(encoder, false).knnTop1();
            return new Result(top1, set.bankLabels().length, set.queryLabels().length, encoder.featureDim(),
                    seconds(start));
        }
    }

    private static EvaluationSet evaluationSet(JobSettings settings) {
        SerializableSupplier<EvaluationSet> supplier = settings.evaluation();
        if (supplier == null) {
            throw new IllegalArgumentException("no evaluation data for " + settings.format() + " " + settings.data()
                    + ": the job would not evaluate it either");
        }
        return supplier.get();
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }
}
