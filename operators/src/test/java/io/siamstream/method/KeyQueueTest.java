package io.siamstream.method;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.siamstream.train.Engines;
import io.siamstream.train.Tensor;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** MoCo's queue: first in, first overwritten, wrapping around, and the same after a save and restore. */
class KeyQueueTest {

    private static NDManager manager;

    @BeforeAll
    static void start() {
        manager = Engines.pyTorch().newBaseManager();
    }

    @AfterAll
    static void stop() {
        manager.close();
    }

    /** n keys of dimension 2 whose first coordinate is its label: (label, 0). */
    private static NDArray keys(float... labels) {
        float[] data = new float[labels.length * 2];
        for (int i = 0; i < labels.length; i++) {
            data[2 * i] = labels[i];
        }
        return manager.create(data, new Shape(labels.length, 2));
    }

    private static float[] labels(KeyQueue queue) {
        float[] rows = queue.rows().toFloatArray();
        float[] out = new float[rows.length / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = rows[2 * i];
        }
        return out;
    }

    @Test
    void startsAsSeededUnitVectors() {
        KeyQueue a = KeyQueue.random(manager, 16, 8, 3);
        KeyQueue b = KeyQueue.random(manager, 16, 8, 3);
        assertThat(a.rows().toFloatArray()).containsExactly(b.rows().toFloatArray());
        float[] norms = a.rows().norm(new int[] {1}).toFloatArray();
        float[] ones = new float[16];
        java.util.Arrays.fill(ones, 1f);
        assertThat(norms).containsExactly(ones, within(1e-5f));
        assertThat(KeyQueue.random(manager, 16, 8, 4).rows().toFloatArray()).isNotEqualTo(a.rows().toFloatArray());
        assertThat(a.pointer()).isZero();
    }

    @Test
    void overwritesTheOldestKeysFirstAndWrapsAround() {
        KeyQueue queue = KeyQueue.random(manager, 5, 2, 1);
        queue.enqueue(keys(1, 2));
        queue.enqueue(keys(3, 4));
        assertThat(queue.pointer()).isEqualTo(4);
        queue.enqueue(keys(5, 6)); // 5 fills the last row, 6 replaces the oldest key, 1
        assertThat(labels(queue)).containsExactly(6, 2, 3, 4, 5);
        assertThat(queue.pointer()).isEqualTo(1);
        queue.enqueue(keys(7));
        assertThat(labels(queue)).containsExactly(6, 7, 3, 4, 5);
    }

    @Test
    void restoredQueueContinuesInTheSameOrder() {
        KeyQueue original = KeyQueue.random(manager, 6, 2, 9);
        original.enqueue(keys(1, 2, 3, 4));
        Map<String, Tensor> saved = original.save();

        KeyQueue restored = KeyQueue.restore(manager, 6, 2, saved);
        assertThat(restored.pointer()).isEqualTo(4);
        assertThat(restored.rows().toFloatArray()).containsExactly(original.rows().toFloatArray());
        original.enqueue(keys(5, 6, 7));
        restored.enqueue(keys(5, 6, 7));
        assertThat(restored.rows().toFloatArray()).containsExactly(original.rows().toFloatArray());
        assertThat(labels(restored)).containsExactly(7, 2, 3, 4, 5, 6);
        assertThat(restored.pointer()).isEqualTo(original.pointer()).isEqualTo(1);
    }

    @Test
    void refusesAQueueOfAnotherShape() {
        Map<String, Tensor> saved = KeyQueue.random(manager, 6, 2, 9).save();
        assertThatThrownBy(() -> KeyQueue.restore(manager, 8, 2, saved))
                .hasMessageContaining("[8, 2]");
        assertThatThrownBy(() -> KeyQueue.restore(manager, 6, 2, Map.of()))
                .hasMessageContaining("no MoCo queue");
    }
}
