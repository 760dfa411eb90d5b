package io.siamstream.report;

/**
 * The projection of n points onto their first two principal components: the covariance matrix (d x d), its two
 * leading eigenvectors by power iteration with deflation from a fixed start, so the same input gives the same map.
 * The sign of each component is fixed so that its largest-magnitude loading is positive.
 */
public final class Pca {

    private static final int MAX_ITERATIONS = 500;

    private Pca() {}

    /** {@code points[i]} is a d-vector; returns n x 2 coordinates. */
    public static double[][] project2d(float[][] points) {
        int n = points.length;
        int d = points[0].length;
        double[] mean = new double[d];
        for (float[] p : points) {
            for (int j = 0; j < d; j++) {
                mean[j] += p[j];
            }
        }
        for (int j = 0; j < d; j++) {
            mean[j] /= n;
        }
        double[][] centred = new double[n][d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                centred[i][j] = points[i][j] - mean[j];
            }
        }
        double[][] cov = new double[d][d];
        for (double[] x : centred) {
            for (int a = 0; a < d; a++) {
                double xa = x[a];
                if (xa == 0) {
                    continue;
                }
                double[] row = cov[a];
                for (int b = a; b < d; b++) {
                    row[b] += xa * x[b];
                }
            }
        }
        for (int a = 0; a < d; a++) {
            for (int b = a; b < d; b++) {
                cov[a][b] /= Math.max(1, n - 1);
                cov[b][a] = cov[a][b];
            }
        }
        double[] first = leadingEigenvector(cov);
        deflate(cov, first);
        double[] second = leadingEigenvector(cov);
        double[][] out = new double[n][2];
        for (int i = 0; i < n; i++) {
            out[i][0] = dot(centred[i], first);
            out[i][1] = dot(centred[i], second);
        }
        return out;
    }

    private static double[] leadingEigenvector(double[][] m) {
        int d = m.length;
        double[] v = new double[d];
        for (int j = 0; j < d; j++) {
            v[j] = 1.0 + 0.01 * j;   // not orthogonal to any eigenvector in practice, and the same every time
        }
        normalise(v);
        for (int it = 0; it < MAX_ITERATIONS; it++) {
            double[] w = new double[d];
            for (int a = 0; a < d; a++) {
                w[a] = dot(m[a], v);
            }
            if (normalise(w) == 0) {
                return v;   // nothing left to explain: any unit vector will do
            }
            double change = 0;
            for (int j = 0; j < d; j++) {
                change = Math.max(change, Math.abs(w[j] - v[j]));
            }
            v = w;
            if (change < 1e-10) {
                break;
            }
        }
        int largest = 0;
        for (int j = 1; j < d; j++) {
            if (Math.abs(v[j]) > Math.abs(v[largest])) {
                largest = j;
            }
        }
        if (v[largest] < 0) {
            for (int j = 0; j < d; j++) {
                v[j] = -v[j];
            }
        }
        return v;
    }

    private static void deflate(double[][] m, double[] v) {
        int d = m.length;
        double[] mv = new double[d];
        for (int a = 0; a < d; a++) {
            mv[a] = dot(m[a], v);
        }
        double lambda = dot(v, mv);
        for (int a = 0; a < d; a++) {
            for (int b = 0; b < d; b++) {
                m[a][b] -= lambda * v[a] * v[b];
            }
        }
    }

    private static double normalise(double[] v) {
        double norm = Math.sqrt(dot(v, v));
        if (norm > 0) {
            for (int j = 0; j < v.length; j++) {
                v[j] /= norm;
            }
        }
        return norm;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int j = 0; j < a.length; j++) {
            s += a[j] * b[j];
        }
        return s;
    }
}
