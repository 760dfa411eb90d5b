package io.siamstream.report;

import io.siamstream.eval.EncoderVersion;
import io.siamstream.eval.EvaluationSet;
import io.siamstream.eval.FrozenEncoder;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * The latest version's view of the test images: their features (l2-normalised, as kNN compares them) mapped to 2-D
 * by PCA and by t-SNE, and a nearest-neighbour grid: a few test images with their nearest train images by cosine
 * similarity, as PNG data URIs.
 *
 * @param points the test images on the map: the first {@code points} of the split ({@code queries} in all)
 */
public record EmbeddingMap(long version, int points, int queries, int[] labels, double[][] pca, double[][] tsne,
                           List<NeighbourRow> grid) {

    /** Nearest neighbours per grid row. */
    public static final int NEIGHBOURS = 8;
    /** Test images in the grid: the first of each of this many classes. */
    public static final int GRID_ROWS = 6;

    /** One test image (thumbnail and label) and its nearest train images, nearest first. */
    public record NeighbourRow(int query, int label, String png, int[] neighbours, int[] neighbourLabels,
                               String[] neighbourPngs) {}

    public static EmbeddingMap compute(EncoderVersion version, EvaluationSet set, int maxPoints, Tsne tsne) {
        int per = version.channels() * version.size() * version.size();
        int queries = set.queryLabels().length;
        int bank = set.bankLabels().length;
        float[][] queryFeatures;
        float[][] bankFeatures;
        try (FrozenEncoder encoder = new FrozenEncoder(version.encoder(), version.size(), version.weights())) {
            queryFeatures = normalisedRows(encoder.embed(set.queries(), queries), queries, encoder.featureDim());
            bankFeatures = normalisedRows(encoder.embed(set.bank(), bank), bank, encoder.featureDim());
        }
        int n = Math.min(maxPoints, queries);
        float[][] mapped = Arrays.copyOf(queryFeatures, n);
        double[][] pca = Pca.project2d(mapped);
        double[][] t = tsne.embed(mapped, pca);
        List<NeighbourRow> grid = new ArrayList<>();
        boolean[] taken = new boolean[set.numClasses()];
        for (int q = 0; q < queries && grid.size() < GRID_ROWS; q++) {
            int label = set.queryLabels()[q];
            if (label < 0 || label >= taken.length || taken[label]) {
                continue;
            }
            taken[label] = true;
            int[] nearest = nearest(queryFeatures[q], bankFeatures, NEIGHBOURS);
            int[] nearestLabels = new int[nearest.length];
            String[] pngs = new String[nearest.length];
            for (int k = 0; k < nearest.length; k++) {
                nearestLabels[k] = set.bankLabels()[nearest[k]];
                pngs[k] = png(set.bank(), nearest[k] * per, version);
            }
            grid.add(new NeighbourRow(q, label, png(set.queries(), q * per, version), nearest, nearestLabels, pngs));
        }
        return new EmbeddingMap(version.version(), n, queries, Arrays.copyOf(set.queryLabels(), n), pca, t, grid);
    }

    private static float[][] normalisedRows(float[] flat, int n, int dim) {
        float[][] rows = new float[n][];
        for (int i = 0; i < n; i++) {
            float[] r = Arrays.copyOfRange(flat, i * dim, (i + 1) * dim);
            double norm = 0;
            for (float v : r) {
                norm += v * v;
            }
            float inv = norm > 0 ? (float) (1 / Math.sqrt(norm)) : 0f;
            for (int j = 0; j < dim; j++) {
                r[j] *= inv;
            }
            rows[i] = r;
        }
        return rows;
    }

    /** Indices of the k rows of {@code bank} with the largest dot product with {@code q}, largest first. */
    static int[] nearest(float[] q, float[][] bank, int k) {
        int[] best = new int[Math.min(k, bank.length)];
        double[] score = new double[best.length];
        Arrays.fill(score, Double.NEGATIVE_INFINITY);
        for (int b = 0; b < bank.length; b++) {
            double s = 0;
            for (int j = 0; j < q.length; j++) {
                s += q[j] * bank[b][j];
            }
            int pos = best.length;
            while (pos > 0 && s > score[pos - 1]) {
                pos--;
            }
            if (pos < best.length) {
                System.arraycopy(score, pos, score, pos + 1, best.length - pos - 1);
                System.arraycopy(best, pos, best, pos + 1, best.length - pos - 1);
                score[pos] = s;
                best[pos] = b;
            }
        }
        return best;
    }

    /** The normalised image at {@code offset} back to 8-bit pixels, as a PNG data URI. */
    static String png(float[] images, int offset, EncoderVersion v) {
        int size = v.size();
        int plane = size * size;
        BufferedImage img = new BufferedImage(size, size,
                v.channels() == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int[] c = new int[3];
                for (int ch = 0; ch < Math.min(3, v.channels()); ch++) {
                    float value = images[offset + ch * plane + y * size + x] * v.std()[ch] + v.mean()[ch];
                    c[ch] = Math.max(0, Math.min(255, Math.round(value * 255)));
                }
                if (v.channels() == 1) {
                    img.getRaster().setSample(x, y, 0, c[0]);
                } else {
                    img.setRGB(x, y, (c[0] << 16) | (c[1] << 8) | c[2]);
                }
            }
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(bytes.toByteArray());
    }
}
