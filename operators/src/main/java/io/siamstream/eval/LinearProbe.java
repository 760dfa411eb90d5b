package io.siamstream.eval;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.siamstream.train.Engines;

/**
 * The linear evaluation protocol on frozen features: softmax regression from standardised features to labels,
 * trained by full-batch gradient descent with momentum on the cross-entropy (gradient X^T (softmax - onehot) / N,
 * computed directly, so no autograd is involved), then top-1 accuracy on held-out features. Deterministic: weights
 * start at zero.
 */
public final class LinearProbe {

    private final int numClasses;
    private final int epochs;
    private final double lr;
    private final double weightDecay;

    public LinearProbe(int numClasses, int epochs, double lr, double weightDecay) {
        if (numClasses < 2) {
            throw new IllegalArgumentException("number of classes " + numClasses + " must be at least 2");
        }
        if (epochs < 1) {
            throw new IllegalArgumentException("eval.linear-epochs: " + epochs + " must be at least 1");
        }
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("eval.linear-lr: " + lr + " must be > 0");
        }
        this.numClasses = numClasses;
        this.epochs = epochs;
        this.lr = lr;
        this.weightDecay = weightDecay;
    }

    public static LinearProbe standard(int numClasses) {
        return new LinearProbe(numClasses, 300, 0.5, 1e-4);
    }

    /** Trains on (train, trainLabels) and returns top-1 accuracy on (test, testLabels). */
    public double accuracy(float[] train, int[] trainLabels, float[] test, int[] testLabels, int dim) {
        return accuracy(null, train, trainLabels, test, testLabels, dim);
    }

    /** {@link #accuracy(float[], int[], float[], int[], int)} computed on {@code device} (null: the engine's default). */
    public double accuracy(Device device, float[] train, int[] trainLabels, float[] test, int[] testLabels, int dim) {
        int n = trainLabels.length;
        int m = testLabels.length;
        try (NDManager manager = device == null ? Engines.pyTorch().newBaseManager()
                : Engines.pyTorch().newBaseManager(device)) {
            NDArray x = manager.create(train, new Shape(n, dim));
            NDArray mean = x.mean(new int[] {0}, true);
            NDArray std = x.sub(mean).square().mean(new int[] {0}, true).sqrt().add(1e-6f);
            x = x.sub(mean).div(std);
            NDArray xt = x.transpose();
            NDArray y = oneHot(manager, trainLabels);
            NDArray w = manager.zeros(new Shape(dim, numClasses));
            NDArray b = manager.zeros(new Shape(1, numClasses));
            NDArray vw = manager.zeros(w.getShape());
            NDArray vb = manager.zeros(b.getShape());
            float step = (float) lr;
            for (int epoch = 0; epoch < epochs; epoch++) {
                // every temporary of an epoch is closed with its scope; w, b and the velocities are updated in place
                try (NDScope scope = new NDScope()) {
                    NDArray diff = x.matMul(w).add(b).softmax(1).sub(y).div((float) n);
                    vw.muli(0.9f).addi(xt.matMul(diff).add(w.mul((float) weightDecay)));
                    vb.muli(0.9f).addi(diff.sum(new int[] {0}, true));
                    w.subi(vw.mul(step));
                    b.subi(vb.mul(step));
                }
            }
            NDArray q = manager.create(test, new Shape(m, dim)).sub(mean).div(std);
            long[] predicted = q.matMul(w).add(b).argMax(1).toType(DataType.INT64, false).toLongArray();
            int correct = 0;
            for (int i = 0; i < m; i++) {
                if (predicted[i] == testLabels[i]) {
                    correct++;
                }
            }
            return (double) correct / m;
        }
    }

    private NDArray oneHot(NDManager manager, int[] labels) {
        float[] data = new float[labels.length * numClasses];
        for (int i = 0; i < labels.length; i++) {
            data[i * numClasses + labels[i]] = 1f;
        }
        return manager.create(data, new Shape(labels.length, numClasses));
    }
}
