package io.siamstream.connectors.idx;

import io.siamstream.connectors.dataset.EvaluationSets;
import io.siamstream.eval.EvaluationSet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.apache.flink.util.function.SerializableSupplier;

/**
 * The evaluation data of Fashion-MNIST, loaded where evaluation runs: the train split as the kNN memory bank and
 * probe training set, the test split as queries; normalised with the dataset's mean and std.
 * {@code directory} null means the bundled sample. Loaded leniently: defective parts of the files are left out
 * (and logged), the rest is evaluated on.
 */
public record FashionMnistEvaluation(String directory, float mean, float std) implements SerializableSupplier<EvaluationSet> {

    /** The evaluation set of splits already in memory. */
    public static EvaluationSet of(LabeledImages train, LabeledImages test, float mean, float std) {
        return new EvaluationSet(train.normalized(mean, std), train.labelArray(),
                test.normalized(mean, std), test.labelArray(), FashionMnist.CLASS_NAMES.length);
    }

    @Override
    public EvaluationSet get() {
        try {
            Path dir = directory == null ? null : Path.of(directory);
            return EvaluationSets.of(FashionMnist.load(dir, FashionMnist.Split.TRAIN),
                    FashionMnist.load(dir, FashionMnist.Split.TEST), new float[] {mean}, new float[] {std},
                    FashionMnist.CLASS_NAMES.length);
        } catch (IOException e) {
            throw new UncheckedIOException("evaluation data cannot be read", e);
        }
    }
}
