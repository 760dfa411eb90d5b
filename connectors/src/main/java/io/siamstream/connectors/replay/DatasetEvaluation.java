package io.siamstream.connectors.replay;

import io.siamstream.connectors.dataset.EvaluationSets;
import io.siamstream.connectors.dataset.ImageSet;
import io.siamstream.eval.EvaluationSet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.util.function.SerializableSupplier;

/**
 * The evaluation data of a replay dataset, loaded where evaluation runs: the labelled images of {@code bank} (kNN
 * memory bank, probe training set) and of {@code queries}, normalised with the dataset's mean and std. With
 * {@code holdOutEvery} k > 0, bank and queries are one dataset: every k-th labelled image (in file order) is a query
 * and the rest the bank. Defective input is left out (and logged).
 */
public record DatasetEvaluation(ReplayDataset bank, ReplayDataset queries, int holdOutEvery, float[] mean,
                                float[] std, int numClasses) implements SerializableSupplier<EvaluationSet> {

    private static final long serialVersionUID = 1L;

    public DatasetEvaluation {
        if (bank == null || queries == null || mean == null || std == null) {
            throw new IllegalArgumentException("evaluation: bank, queries, mean and std are required");
        }
        if (holdOutEvery == 1 || holdOutEvery < 0) {
            throw new IllegalArgumentException("evaluation: hold-out every " + holdOutEvery + " must be 0 or >= 2");
        }
    }

    /** Train split as the bank, test split as the queries. */
    public static DatasetEvaluation splits(ReplayDataset train, ReplayDataset test, float[] mean, float[] std,
                                           int numClasses) {
        return new DatasetEvaluation(train, test, 0, mean, std, numClasses);
    }

    /** One labelled dataset: every {@code every}-th labelled image a query, the others the bank. */
    public static DatasetEvaluation heldOut(ReplayDataset data, int every, float[] mean, float[] std, int numClasses) {
        return new DatasetEvaluation(data, data, every, mean, std, numClasses);
    }

    @Override
    public EvaluationSet get() {
        try {
            if (holdOutEvery == 0) {
                return EvaluationSets.of(bank.load(), queries.load(), mean, std, numClasses);
            }
            ImageSet all = bank.load().labelledOnly();
            List<Integer> b = new ArrayList<>();
            List<Integer> q = new ArrayList<>();
            for (int i = 0; i < all.count(); i++) {
                (i % holdOutEvery == holdOutEvery - 1 ? q : b).add(i);
            }
            ImageSet bankSet = all.select(b.stream().mapToInt(Integer::intValue).toArray());
            ImageSet querySet = all.select(q.stream().mapToInt(Integer::intValue).toArray());
            return EvaluationSets.of(bankSet, querySet, mean, std, numClasses);
        } catch (IOException e) {
            throw new UncheckedIOException("evaluation data cannot be read", e);
        }
    }
}
