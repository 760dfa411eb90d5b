package io.siamstream.bench;

import io.siamstream.connectors.model.Npy;
import io.siamstream.eval.KnnClassifier;
import io.siamstream.eval.LinearProbe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * The one scorer of the quality race (bench/quality-race.sh): reads features that each side exported as NumPy files
 * ({@code <dir>/<name>-train.npy}, {@code <name>-test.npy}, float32 N x dim, with {@code .labels.npy} int64 beside
 * them) and scores them with the job's own evaluator: kNN ({@link KnnClassifier#standard}: k = 200, T = 0.1, cosine,
 * the train split as the bank, the test split as queries) and the linear probe ({@link LinearProbe#standard}).
 * Prints one JSON line per name.
 *
 * <p>Usage: {@code FeatureScore <dir> <name>...}
 */
public final class FeatureScore {

    private FeatureScore() {}

    /** Features and labels of one split. */
    record Split(float[] features, int[] labels, int dim) {}

    static Split read(Path features) throws IOException {
        String name = features.getFileName().toString();
        Path labelsPath = features.resolveSibling(name.substring(0, name.length() - ".npy".length()) + ".labels.npy");
        Npy.Array x = Npy.read(Files.readAllBytes(features));
        Npy.Array y = Npy.read(Files.readAllBytes(labelsPath));
        if (x.floats() == null || x.shape().length != 2) {
            throw new IllegalArgumentException(features + ": expected float32 N x dim, got shape "
                    + Arrays.toString(x.shape()));
        }
        if (y.longs() == null || y.longs().length != x.shape()[0]) {
            throw new IllegalArgumentException(labelsPath + ": expected " + x.shape()[0] + " int64 labels");
        }
        int[] labels = Arrays.stream(y.longs()).mapToInt(Math::toIntExact).toArray();
        return new Split(x.floats(), labels, (int) x.shape()[1]);
    }

    /** kNN and linear-probe accuracy of one side's features, as a JSON line. */
    static String score(Path dir, String name) throws IOException {
        Split train = read(dir.resolve(name + "-train.npy"));
        Split test = read(dir.resolve(name + "-test.npy"));
        if (train.dim() != test.dim()) {
            throw new IllegalArgumentException(name + ": train has " + train.dim() + " features, test " + test.dim());
        }
        int classes = Math.max(Arrays.stream(train.labels()).max().orElse(0),
                Arrays.stream(test.labels()).max().orElse(0)) + 1;
        long t0 = System.nanoTime();
        double knn = KnnClassifier.standard(classes).accuracy(train.features(), train.labels(), test.features(),
                test.labels(), train.dim());
        long t1 = System.nanoTime();
        double linear = LinearProbe.standard(classes).accuracy(train.features(), train.labels(), test.features(),
                test.labels(), train.dim());
        long t2 = System.nanoTime();
        return String.format(Locale.ROOT, "{\"name\": \"%s\", \"bank\": %d, \"queries\": %d, \"dim\": %d,"
                        + " \"knn\": %.4f, \"linear\": %.4f, \"knn_s\": %.1f, \"linear_s\": %.1f}",
                name, train.labels().length, test.labels().length, train.dim(), knn, linear, (t1 - t0) / 1e9,
                (t2 - t1) / 1e9);
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: FeatureScore <dir> <name>...");
        }
        for (int i = 1; i < args.length; i++) {
            System.out.println(score(Path.of(args[0]), args[i]));
        }
    }
}
