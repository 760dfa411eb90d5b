package io.siamstream.job;

import io.siamstream.eval.EvaluationSet;
import io.siamstream.eval.KnnClassifier;
import java.util.Locale;
import org.apache.flink.api.java.utils.ParameterTool;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.function.SerializableSupplier;

/**
 * The baseline an encoder must beat: kNN top-1 on raw pixels, computed the way the job evaluates an encoder. It takes
 * the job's own flags ({@code --siamstream.<option> value}, see {@link SiamstreamOptions}) and uses the job's
 * evaluation data ({@link JobSettings#evaluation()}: the train split as the labelled bank, the test split as the
 * queries, normalised with the dataset's mean and std) and the job's classifier ({@link KnnClassifier#standard}:
 * k = 200, T = 0.1, cosine similarity); the feature vector is the C x H x W normalised pixels (784 for
 * Fashion-MNIST) instead of an encoder's output. The classifier l2-normalises every vector itself, as it does
 * encoder features.
 */
public final class RawPixelBaseline {

    /** What one baseline measured. */
    public record Result(double knnTop1, int bank, int queries, int dim, double seconds) {}

    private RawPixelBaseline() {}

    public static void main(String[] args) {
        Configuration conf = ParameterTool.fromArgs(args).getConfiguration();
        JobSettings settings = JobSettings.from(conf);
        Result r = measure(settings);
        System.out.printf(Locale.ROOT, "raw-pixel kNN top-1 (k=200, T=0.1, cosine) on %s %s: %.4f"
                        + " (%d bank / %d query images, dim %d, %.1f s)%n",
                settings.format(), settings.data(), r.knnTop1(), r.bank(), r.queries(), r.dim(), r.seconds());
    }

    /** The raw-pixel kNN top-1 on the evaluation data of the job with these settings. */
    public static Result measure(JobSettings settings) {
        SerializableSupplier<EvaluationSet> supplier = settings.evaluation();
        if (supplier == null) {
            throw new IllegalArgumentException("no evaluation data for " + settings.format() + " " + settings.data()
                    + ": the job would not evaluate it either");
        }
        long start = System.nanoTime();
        EvaluationSet set = supplier.get();
        int dim = settings.channels() * settings.imageSize() * settings.imageSize();
        double top1 = KnnClassifier.standard(set.numClasses())
                .accuracy(set.bank(), set.bankLabels(), set.queries(), set.queryLabels(), dim);
        return new Result(top1, set.bankLabels().length, set.queryLabels().length, dim,
                (System.nanoTime() - start) / 1e9);
    }
}
