package io.siamstream.flink;

import io.siamstream.train.EncodedLearnerState;
import io.siamstream.train.LearnerState;
import io.siamstream.train.LearnerStateCodec;
import io.siamstream.train.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntPredicate;
import java.util.function.Predicate;
import org.apache.flink.api.common.state.ListState;

/**
 * The learners of a training subtask in operator state: a union list of {@link LearnerChunk}s, each replica an index
 * entry (the codec's versioned header, the tensor names and chunk counts) and one chunk per tensor ({@code name#0};
 * a tensor above {@code maxChunkBytes} is cut into {@code name#0}, {@code name#1}, ...).
 *
 * <p>Why operator state and not keyed state: the keyed backend (RocksDB) takes its snapshot in the synchronous part,
 * so every byte put into it there is written while training waits. The operator state backend only keeps references
 * there (see {@link LearnerChunkSerializer}) and writes the bytes in the asynchronous part, so the training thread pays
 * for one copy of each tensor out of the engine and nothing else.
 *
 * <p>Why a union list: after a restore every subtask sees every replica and keeps those whose key group it owns, which
 * is where keyed state would have put them, so rescaling moves learners exactly as before.
 */
public final class OperatorLearnerState {

    private final ListState<LearnerChunk> chunks;
    private final int maxChunkBytes;

    OperatorLearnerState(ListState<LearnerChunk> chunks, int maxChunkBytes) {
        this.chunks = chunks;
        this.maxChunkBytes = maxChunkBytes;
    }

    /** Replaces the stored learners with these (replica to state). The chunks share the states' arrays. */
    void write(Map<Integer, EncodedLearnerState> learners) throws Exception {
        List<LearnerChunk> out = new ArrayList<>();
        learners.forEach((replica, state) -> chunk(replica, state, maxChunkBytes, out));
        chunks.update(out);
    }

    /** Drops the references this state holds: a snapshot already taken keeps its own list. */
    void clear() {
        chunks.clear();
    }

    /** The learners stored for the replicas that {@code owned} accepts. */
    Map<Integer, LearnerState> read(IntPredicate owned) throws Exception {
        return assemble(chunks.get(), owned, name -> true);
    }

    /** The entry names stored for a replica (tests). */
    List<String> entries(int replica) throws Exception {
        List<String> names = new ArrayList<>();
        for (LearnerChunk chunk : chunks.get()) {
            if (chunk.replica == replica && chunk.tensor() != null) {
                names.add(chunk.entry);
            }
        }
        return names;
    }

    static void chunk(int replica, EncodedLearnerState state, int maxChunkBytes, List<LearnerChunk> out) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        state.tensors().forEach((name, bytes) -> {
            int count = Math.max(1, (bytes.length + maxChunkBytes - 1) / maxChunkBytes);
            for (int k = 0; k < count; k++) {
                // a tensor that fits one chunk (all of ResNet-18's) is stored as encoded, without another copy
                out.add(new LearnerChunk(replica, name + "#" + k, count == 1 ? bytes
                        : Arrays.copyOfRange(bytes, k * maxChunkBytes, Math.min(bytes.length, (k + 1) * maxChunkBytes))));
            }
            counts.put(name, count);
        });
        out.add(new LearnerChunk(replica, LearnerChunk.INDEX, LearnerStateCodec.encodeIndex(state.header(), counts)));
    }

    /**
     * Rebuilds the learners of the replicas that {@code owned} accepts out of chunks in any order, with the tensors
     * whose names {@code tensors} accepts ({@code model extract} takes the parameters only).
     */
    public static Map<Integer, LearnerState> assemble(Iterable<LearnerChunk> chunks, IntPredicate owned,
                                                      Predicate<String> tensors) {
        Map<Integer, byte[]> indexes = new TreeMap<>();
        Map<Integer, Map<String, byte[]>> entries = new HashMap<>();
        for (LearnerChunk chunk : chunks == null ? List.<LearnerChunk>of() : chunks) {
            if (!owned.test(chunk.replica)) {
                continue;
            }
            if (chunk.tensor() == null) {
                if (indexes.put(chunk.replica, chunk.bytes) != null) {
                    throw new IllegalStateException("checkpointed learner state holds two indexes for replica "
                            + chunk.replica);
                }
            } else if (tensors.test(chunk.tensor())) {
                entries.computeIfAbsent(chunk.replica, r -> new HashMap<>()).put(chunk.entry, chunk.bytes);
            }
        }
        Map<Integer, LearnerState> out = new TreeMap<>();
        indexes.forEach((replica, index) -> {
            LearnerStateCodec.Index idx = LearnerStateCodec.decodeIndex(index);
            Map<String, byte[]> stored = entries.getOrDefault(replica, Map.of());
            Map<String, Tensor> decoded = new LinkedHashMap<>();
            idx.chunks().forEach((name, count) -> {
                if (!tensors.test(name)) {
                    return;
                }
                byte[][] parts = new byte[count][];
                int total = 0;
                for (int k = 0; k < count; k++) {
                    parts[k] = stored.get(name + "#" + k);
                    if (parts[k] == null) {
                        throw new IllegalStateException("checkpointed learner state of replica " + replica
                                + " lacks chunk " + k + " of " + name);
                    }
                    total += parts[k].length;
                }
                byte[] joined = count == 1 ? parts[0] : new byte[total];
                if (count > 1) {
                    int at = 0;
                    for (byte[] part : parts) {
                        System.arraycopy(part, 0, joined, at, part.length);
                        at += part.length;
                    }
                }
                decoded.put(name, LearnerStateCodec.decodeTensor(joined));
            });
            out.put(replica, new LearnerState(idx.fingerprint(), idx.step(), idx.skippedSteps(), idx.seed(), decoded));
        });
        return out;
    }
}
