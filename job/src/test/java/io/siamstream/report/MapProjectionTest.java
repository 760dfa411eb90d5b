package io.siamstream.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** PCA and t-SNE of the report's map, on points whose arrangement is known. */
class MapProjectionTest {

    @Test
    void pcaFindsTheDirectionOfLargestVariance() {
        float[][] points = new float[50][3];
        for (int i = 0; i < points.length; i++) {
            float t = i - 25;
            points[i] = new float[] {t, 0.5f * t, (i % 2) * 0.1f};   // a line, plus a little noise off it
        }
        double[][] map = Pca.project2d(points);
        double scale = Math.sqrt(1.25);
        for (int i = 0; i < points.length; i++) {
            assertThat(map[i][0]).isCloseTo((i - 24.5) * scale, org.assertj.core.data.Offset.offset(0.05));
            assertThat(Math.abs(map[i][1])).isLessThan(0.1);
        }
    }

    @Test
    void tsneKeepsSeparateClustersApartAndIsDeterministic() {
        Random random = new Random(7);
        int perCluster = 40;
        float[][] points = new float[3 * perCluster][8];
        for (int i = 0; i < points.length; i++) {
            int cluster = i / perCluster;
            for (int d = 0; d < 8; d++) {
                points[i][d] = (float) ((d == cluster ? 10 : 0) + random.nextGaussian());
            }
        }
        double[][] map = new Tsne(20, 300).embed(points, Pca.project2d(points));
        double[][] again = new Tsne(20, 300).embed(points, Pca.project2d(points));
        assertThat(again).isDeepEqualTo(map);
        // every point is nearer to its own cluster's centre than to any other's
        double[][] centres = new double[3][2];
        for (int i = 0; i < points.length; i++) {
            centres[i / perCluster][0] += map[i][0] / perCluster;
            centres[i / perCluster][1] += map[i][1] / perCluster;
        }
        for (int i = 0; i < points.length; i++) {
            int own = i / perCluster;
            for (int c = 0; c < 3; c++) {
                if (c != own) {
                    assertThat(distance(map[i], centres[own])).isLessThan(distance(map[i], centres[c]));
                }
            }
        }
    }

    private static double distance(double[] a, double[] b) {
        return Math.hypot(a[0] - b[0], a[1] - b[1]);
    }
}
