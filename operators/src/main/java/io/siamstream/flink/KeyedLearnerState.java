package io.siamstream.flink;

import io.siamstream.train.LearnerState;
import io.siamstream.train.LearnerStateCodec;
import io.siamstream.train.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.ValueState;

/**
 * Stores a learner state in the current key's keyed state: one MapState entry per tensor (a tensor larger than
 * {@code maxChunkBytes} is cut into entries {@code name#0}, {@code name#1}, ... so no value reaches RocksDB's
 * 2 GiB limit) and a ValueState index with the codec's versioned header, the counters and the chunk counts.
 * Opened through {@link TrainerState#learner}. Earlier versions kept the learner here; the training operator now keeps
 * it in operator state ({@link OperatorLearnerState}) and reads this only to restore their checkpoints.
 */
public final class KeyedLearnerState {

    private final MapState<String, byte[]> tensors;
    private final ValueState<byte[]> index;
    private final int maxChunkBytes;

    KeyedLearnerState(MapState<String, byte[]> tensors, ValueState<byte[]> index, int maxChunkBytes) {
        this.tensors = tensors;
        this.index = index;
        this.maxChunkBytes = maxChunkBytes;
    }

    /**
     * Replaces the stored state: clears the map, then writes every entry. Overwriting the entries in place instead
     * (removing only those the previous index named and this state lacks) was tried on ResNet-18 (185 MB,
     * JobThroughputBenchmark, unaligned checkpoints). With the MiniCluster's default managed memory the synchronous
     * part took 2.26-2.37 s against 1.63-1.68 s with the clear (three runs each); with 2 GB, 0.78 s against 1.0 s
     * (one run each). The clear stays: simpler, and faster where memory is tight.
     */
    void write(LearnerState state) throws Exception {
        tensors.clear();
        Map<String, Integer> chunks = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> entry : state.tensors().entrySet()) {
            byte[] bytes = LearnerStateCodec.encodeTensor(entry.getValue());
            int count = Math.max(1, (bytes.length + maxChunkBytes - 1) / maxChunkBytes);
            for (int k = 0; k < count; k++) {
                // a tensor that fits one chunk (all of ResNet-18's) is stored as encoded, without another copy
                tensors.put(entry.getKey() + "#" + k, count == 1 ? bytes
                        : Arrays.copyOfRange(bytes, k * maxChunkBytes, Math.min(bytes.length, (k + 1) * maxChunkBytes)));
            }
            chunks.put(entry.getKey(), count);
        }
        index.update(LearnerStateCodec.encodeIndex(state, chunks));
    }

    /** Removes the current key's stored state. */
    void clear() {
        tensors.clear();
        index.clear();
    }

    /** The keys of the tensor entries stored for the current key (tests). */
    List<String> storedEntries() throws Exception {
        List<String> names = new ArrayList<>();
        for (String name : tensors.keys()) {
            names.add(name);
        }
        return names;
    }

    /** The stored state, or null when this key has none. */
    public LearnerState read() throws Exception {
        byte[] bytes = index.value();
        if (bytes == null) {
            return null;
        }
        LearnerStateCodec.Index idx = LearnerStateCodec.decodeIndex(bytes);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> entry : idx.chunks().entrySet()) {
            byte[][] parts = new byte[entry.getValue()][];
            int total = 0;
            for (int k = 0; k < parts.length; k++) {
                parts[k] = tensors.get(entry.getKey() + "#" + k);
                if (parts[k] == null) {
                    throw new IllegalStateException("checkpointed learner state lacks chunk " + k + " of " + entry.getKey());
                }
                total += parts[k].length;
            }
            byte[] joined = new byte[total];
            int at = 0;
            for (byte[] part : parts) {
                System.arraycopy(part, 0, joined, at, part.length);
                at += part.length;
            }
            out.put(entry.getKey(), LearnerStateCodec.decodeTensor(joined));
        }
        return new LearnerState(idx.fingerprint(), idx.step(), idx.skippedSteps(), idx.seed(), out);
    }
}
