package io.siamstream.method;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.siamstream.seed.Seeds;
import io.siamstream.train.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * MoCo's queue of negative keys: K rows of dimension D in a ring, the oldest overwritten first, with the write
 * pointer. It starts as random unit vectors (the paper's code: normalised Gaussian noise) drawn from the run seed.
 * Its rows and pointer are part of the learner state, so a restored learner continues with exactly the same
 * negatives.
 */
public final class KeyQueue {

    static final String ROWS = "queue";
    static final String POINTER = "queue_ptr";

    private final NDArray rows;
    private long pointer;

    private KeyQueue(NDArray rows, long pointer) {
        this.rows = rows;
        this.pointer = pointer;
    }

    /** A queue of {@code size} random unit vectors of dimension {@code dim}, drawn from {@code seed}. */
    public static KeyQueue random(NDManager manager, int size, int dim, long seed) {
        SplittableRandom random = new SplittableRandom(Seeds.derive(seed, Seeds.ofName("moco/queue")));
        float[] data = new float[Math.multiplyExact(size, dim)];
        for (int r = 0; r < size; r++) {
            double norm = 0;
            for (int c = 0; c < dim; c++) {
                double v = random.nextGaussian();
                data[r * dim + c] = (float) v;
                norm += v * v;
            }
            float scale = (float) (1.0 / Math.max(Math.sqrt(norm), NegativeCosineSimilarity.EPS));
            for (int c = 0; c < dim; c++) {
                data[r * dim + c] *= scale;
            }
        }
        return new KeyQueue(manager.create(data, new Shape(size, dim)), 0);
    }

    /** The queue saved by {@link #save()}; it must have {@code size} rows of {@code dim}. */
    public static KeyQueue restore(NDManager manager, int size, int dim, Map<String, Tensor> saved) {
        Tensor rows = saved.get(ROWS);
        Tensor pointer = saved.get(POINTER);
        if (rows == null || pointer == null) {
            throw new IllegalStateException("the saved learner state has no MoCo queue (" + ROWS + ", " + POINTER
                    + "); it has " + saved.keySet());
        }
        if (rows.shape().length != 2 || rows.shape()[0] != size || rows.shape()[1] != dim) {
            throw new IllegalStateException("the saved MoCo queue has shape " + java.util.Arrays.toString(rows.shape())
                    + " but the configuration needs [" + size + ", " + dim + "]");
        }
        long p = (long) pointer.data()[0];
        if (p < 0 || p >= size) {
            throw new IllegalStateException("the saved MoCo queue pointer " + p + " is outside [0, " + size + ")");
        }
        return new KeyQueue(manager.create(rows.data(), new Shape(size, dim)), p);
    }

    /** Writes the N x D keys at the pointer (wrapping around) and advances it: first in, first overwritten. */
    public void enqueue(NDArray keys) {
        long size = rows.getShape().get(0);
        long n = keys.getShape().get(0);
        if (n > size) {
            keys = keys.get(new NDIndex("{}:", n - size));
            n = size;
        }
        long first = Math.min(n, size - pointer);
        rows.set(new NDIndex("{}:{}", pointer, pointer + first), keys.get(new NDIndex("0:{}", first)));
        if (first < n) {
            rows.set(new NDIndex("0:{}", n - first), keys.get(new NDIndex("{}:", first)));
        }
        pointer = (pointer + n) % size;
    }

    /** The K x D keys (the live array). */
    public NDArray rows() {
        return rows;
    }

    /** The row the next key goes to. */
    public long pointer() {
        return pointer;
    }

    /** Copies of the rows and the pointer. */
    public Map<String, Tensor> save() {
        Map<String, Tensor> state = new LinkedHashMap<>();
        state.put(ROWS, new Tensor(rows.getShape().getShape(), rows.toFloatArray()));
        state.put(POINTER, new Tensor(new long[] {1}, new float[] {pointer}));
        return state;
    }
}
