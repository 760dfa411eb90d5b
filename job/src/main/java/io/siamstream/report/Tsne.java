package io.siamstream.report;

/**
 * Exact t-SNE (van der Maaten and Hinton, 2008) for the report's map of about a thousand points: Gaussian
 * affinities calibrated to a perplexity by bisection, symmetrised; Student-t similarities in 2-D; gradient descent
 * with momentum, per-coordinate gains and early exaggeration. O(n^2) per iteration, which is what a thousand points
 * can afford and spares a Barnes-Hut tree. Deterministic: it starts from the PCA map scaled down (no random draws),
 * so the same features give the same picture on every refresh.
 */
public final class Tsne {

    private final double perplexity;
    private final int iterations;
    private final int exaggeratedIterations;
    private final double exaggeration;

    public Tsne(double perplexity, int iterations) {
        this.perplexity = perplexity;
        this.iterations = iterations;
        this.exaggeratedIterations = Math.min(iterations / 3, 250);
        this.exaggeration = 12;
    }

    /** The common setting: perplexity 30 (less for few points), 600 iterations. */
    public static Tsne standard() {
        return new Tsne(30, 600);
    }

    /** {@code points[i]} is a d-vector; {@code init} the n x 2 start (e.g. the PCA map); returns n x 2 coordinates. */
    public double[][] embed(float[][] points, double[][] init) {
        int n = points.length;
        if (n < 3) {
            return new double[n][2];
        }
        double[] p = affinities(points, Math.min(perplexity, (n - 1) / 3.0));
        double[][] y = scaledStart(init);
        double[][] velocity = new double[n][2];
        double[][] gains = new double[n][2];
        for (double[] g : gains) {
            g[0] = 1;
            g[1] = 1;
        }
        double rate = Math.max(n / exaggeration, 50);   // the automatic rate of Belkina et al. (2019)
        double[] num = new double[n * n];
        double[][] grad = new double[n][2];
        for (int it = 0; it < iterations; it++) {
            double ex = it < exaggeratedIterations ? exaggeration : 1;
            double momentum = it < exaggeratedIterations ? 0.5 : 0.8;
            double z = 0;
            for (int i = 0; i < n; i++) {
                for (int j = i + 1; j < n; j++) {
                    double dx = y[i][0] - y[j][0];
                    double dy = y[i][1] - y[j][1];
                    double q = 1 / (1 + dx * dx + dy * dy);
                    num[i * n + j] = q;
                    z += 2 * q;
                }
            }
            for (double[] g : grad) {
                g[0] = 0;
                g[1] = 0;
            }
            for (int i = 0; i < n; i++) {
                for (int j = i + 1; j < n; j++) {
                    double q = num[i * n + j];
                    double f = 4 * (ex * p[i * n + j] - q / z) * q;
                    double fx = f * (y[i][0] - y[j][0]);
                    double fy = f * (y[i][1] - y[j][1]);
                    grad[i][0] += fx;
                    grad[i][1] += fy;
                    grad[j][0] -= fx;
                    grad[j][1] -= fy;
                }
            }
            double[] centre = new double[2];
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < 2; c++) {
                    boolean sameSign = (grad[i][c] > 0) == (velocity[i][c] > 0);
                    gains[i][c] = Math.max(0.01, sameSign ? gains[i][c] * 0.8 : gains[i][c] + 0.2);
                    velocity[i][c] = momentum * velocity[i][c] - rate * gains[i][c] * grad[i][c];
                    y[i][c] += velocity[i][c];
                    centre[c] += y[i][c];
                }
            }
            for (double[] yi : y) {
                yi[0] -= centre[0] / n;
                yi[1] -= centre[1] / n;
            }
        }
        return y;
    }

    /** The symmetric joint probabilities P (n x n, row-major) at the given perplexity. */
    static double[] affinities(float[][] x, double perplexity) {
        int n = x.length;
        double[] d2 = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double s = 0;
                for (int k = 0; k < x[i].length; k++) {
                    double diff = x[i][k] - x[j][k];
                    s += diff * diff;
                }
                d2[i * n + j] = s;
                d2[j * n + i] = s;
            }
        }
        double target = Math.log(perplexity);
        double[] conditional = new double[n * n];
        double[] row = new double[n];
        for (int i = 0; i < n; i++) {
            double beta = 1;
            double lo = 0;
            double hi = Double.POSITIVE_INFINITY;
            for (int tries = 0; tries < 100; tries++) {
                double min = Double.POSITIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    if (j != i) {
                        min = Math.min(min, d2[i * n + j]);
                    }
                }
                double sum = 0;
                double weighted = 0;
                for (int j = 0; j < n; j++) {
                    // shifted by the nearest distance: the same distribution, without underflow to all zeros
                    row[j] = j == i ? 0 : Math.exp(-beta * (d2[i * n + j] - min));
                    sum += row[j];
                    weighted += row[j] * (d2[i * n + j] - min);
                }
                double entropy = Math.log(sum) + beta * weighted / sum;
                for (int j = 0; j < n; j++) {
                    conditional[i * n + j] = row[j] / sum;
                }
                double diff = entropy - target;
                if (Math.abs(diff) < 1e-5) {
                    break;
                }
                if (diff > 0) {
                    lo = beta;
                    beta = hi == Double.POSITIVE_INFINITY ? beta * 2 : (beta + hi) / 2;
                } else {
                    hi = beta;
                    beta = (beta + lo) / 2;
                }
            }
        }
        double[] p = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                p[i * n + j] = Math.max((conditional[i * n + j] + conditional[j * n + i]) / (2.0 * n), 1e-12);
            }
        }
        return p;
    }

    /** The start: {@code init} centred and scaled to a std of 1e-4 in its first coordinate, as openTSNE's PCA start. */
    private static double[][] scaledStart(double[][] init) {
        int n = init.length;
        double[] mean = new double[2];
        for (double[] v : init) {
            mean[0] += v[0] / n;
            mean[1] += v[1] / n;
        }
        double var = 0;
        for (double[] v : init) {
            var += (v[0] - mean[0]) * (v[0] - mean[0]) / n;
        }
        double scale = var > 0 ? 1e-4 / Math.sqrt(var) : 1;
        double[][] y = new double[n][2];
        for (int i = 0; i < n; i++) {
            y[i][0] = (init[i][0] - mean[0]) * scale;
            y[i][1] = (init[i][1] - mean[1]) * scale;
        }
        return y;
    }
}
