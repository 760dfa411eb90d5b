package io.siamstream.flink;

import static org.assertj.core.api.Assertions.assertThat;

import io.siamstream.record.DeadLetter;
import io.siamstream.record.StepMetrics;
import io.siamstream.record.ViewPair;
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerConfig;
import io.siamstream.train.Tensor;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.core.memory.DataInputViewStreamWrapper;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.runtime.state.OperatorBackendSerializationProxy;
import org.apache.flink.runtime.state.OperatorStateHandle;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class TrainingOperatorTest {

    private static final int BATCH = 4;
    private static final LearnerConfig CONFIG = LearnerConfig.smallConvNet(BATCH, 100, 11);

    private static ViewPair pair(long seq) {
        SplittableRandom random = new SplittableRandom(seq);
        float[] v1 = new float[28 * 28];
        float[] v2 = new float[28 * 28];
        for (int i = 0; i < v1.length; i++) {
            v1[i] = (float) random.nextGaussian();
            v2[i] = v1[i] + 0.2f * (float) random.nextGaussian();
        }
        return new ViewPair(seq % 7, seq, 0, 1, 28, 28, v1, v2, (int) (seq % 10));
    }

    private static KeyedOneInputStreamOperatorTestHarness<Integer, ViewPair, StepMetrics> harness(
            TrainingOperator operator) throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(operator, p -> 0, Types.INT);
        h.getExecutionConfig().disableGenericTypes();
        return h;
    }

    private static KeyedOneInputStreamOperatorTestHarness<Integer, ViewPair, StepMetrics> harness(
            TrainingOperator operator, MockEnvironment env) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(operator, p -> 0, Types.INT, env);
    }

    private static void send(KeyedOneInputStreamOperatorTestHarness<Integer, ViewPair, StepMetrics> h, long... seqs)
            throws Exception {
        for (long seq : seqs) {
            h.processElement(new StreamRecord<>(pair(seq)));
        }
    }

    private static List<StepMetrics> steps(KeyedOneInputStreamOperatorTestHarness<Integer, ViewPair, StepMetrics> h) {
        return new ArrayList<>(h.extractOutputValues());
    }

    @Test
    void sequenceBatchesTrainInOrderWhateverTheArrivalOrder() throws Exception {
        TrainingOperator operator = new TrainingOperator(CONFIG, true, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = harness(operator)) {
            h.open();
            send(h, 5, 7, 4, 6);          // all of batch 1 first: nothing can train yet
            assertThat(steps(h)).isEmpty();
            send(h, 2, 0, 3);
            assertThat(steps(h)).isEmpty();
            send(h, 1);                   // batch 0 completes, then batch 1 is ready too
            assertThat(steps(h)).extracting(m -> m.step).containsExactly(1L, 2L);
            assertThat(steps(h)).extracting(m -> m.firstSeq).containsExactly(0L, 4L);
            assertThat(h.numKeyedStateEntries()).as("pairs and learner stay on the heap between checkpoints").isZero();
            h.snapshot(1, 1);
            long learnerEntries = h.numKeyedStateEntries();
            send(h, 9, 8);
            h.snapshot(2, 2);
            assertThat(h.numKeyedStateEntries()).as("a checkpoint holds the waiting pairs (one map under the replica key)")
                    .isEqualTo(learnerEntries + 1);
        }
    }

    @Test
    void replayedOrDuplicatePairsGoToTheDeadLetter() throws Exception {
        TrainingOperator operator = new TrainingOperator(CONFIG, true, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = harness(operator)) {
            h.open();
            send(h, 0, 1, 2, 3, 2, 5, 5);
            List<DeadLetter> dead = new ArrayList<>();
            h.getSideOutput(DeadLetters.TAG).forEach(r -> dead.add(r.getValue()));
            // seq 2 again after batch 0 trained is late; seq 5 twice while batch 1 waits is a duplicate
            assertThat(dead).extracting(d -> d.reason).containsExactly(DeadLetters.LATE_PAIR, DeadLetters.DUPLICATE_PAIR);
            assertThat(dead).extracting(d -> d.seq).containsExactly(2L, 5L);
            assertThat(steps(h)).hasSize(1);
        }
    }

    private static void skip(KeyedOneInputStreamOperatorTestHarness<Integer, ViewPair, StepMetrics> h, long seq,
                             String reason) throws Exception {
        h.processElement(new StreamRecord<>(ViewPair.skipMarker(seq % 7, seq, 0, reason)));
    }

    private static List<ViewPair> pairs(long... seqs) {
        List<ViewPair> out = new ArrayList<>();
        for (long seq : seqs) {
            out.add(pair(seq));
        }
        return out;
    }

    @Test
    void lostRecordsNeverStallTrainingAndTheirBatchesTrainWithTheRest() throws Exception {
        TrainingOperator operator = new TrainingOperator(CONFIG, true, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES, 8);
        FlinkTestSupport.Metrics metrics = new FlinkTestSupport.Metrics();
        OperatorSubtaskState checkpoint;
        try (MockEnvironment env = FlinkTestSupport.environment(metrics); var h = harness(operator, env)) {
            h.open();
            send(h, 0, 1, 2);
            skip(h, 3, "augment-view2: nan-pixels");           // rejected by one view only
            send(h, 4, 5);
            checkpoint = h.snapshot(1, 1);                     // the skip of seq 6 comes after the checkpoint
            skip(h, 6, "unpaired-timeout");                    // its pair timed out in pairing
            send(h, 7);
            send(h, 8, 10, 11, 12, 13, 14, 15);                // seq 9 never arrives
            assertThat(steps(h)).as("batch 2 waits for seq 9, batch 3 behind it").hasSize(2);
            send(h, 16, 17);                                   // 9 pairs wait: past the bound of 8
            send(h, 9);                                        // the straggler comes too late

            assertThat(steps(h)).extracting(m -> m.pairs).containsExactly(3, 3, 3, 4);
            assertThat(steps(h)).extracting(m -> m.step).containsExactly(1L, 2L, 3L, 4L);
            assertThat(steps(h)).extracting(m -> m.firstSeq).containsExactly(0L, 4L, 8L, 12L);
            assertThat(metrics.count("skippedPairs")).isEqualTo(2);
            assertThat(metrics.count("partialBatches")).isEqualTo(3);
            assertThat(metrics.count("forcedBatches")).isEqualTo(1);
            List<DeadLetter> dead = new ArrayList<>();
            h.getSideOutput(DeadLetters.TAG).forEach(r -> dead.add(r.getValue()));
            assertThat(dead).singleElement().satisfies(d -> {
                assertThat(d.reason).isEqualTo(DeadLetters.LATE_PAIR);
                assertThat(d.seq).isEqualTo(9);
            });
            // exactly the smaller batches, bit for bit: a learner trained on them directly ends where the operator did
            try (Learner direct = Learner.create(CONFIG)) {
                direct.step(pairs(0, 1, 2));
                direct.step(pairs(4, 5, 7));
                direct.step(pairs(8, 10, 11));
                direct.step(pairs(12, 13, 14, 15));
                assertTensorsEqual(operator.learnerOf(0).snapshot().tensors(), direct.snapshot().tensors());
            }
        }
        // the skip marker of seq 3 is in the checkpoint with the waiting pairs: a restore closes batch 1 the same way
        TrainingOperator restored = new TrainingOperator(CONFIG, true, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES, 8);
        try (var h = harness(restored)) {
            h.initializeState(checkpoint);
            h.open();
            skip(h, 6, "unpaired-timeout");
            send(h, 7);
            assertThat(steps(h)).extracting(m -> m.pairs).containsExactly(3);
            try (Learner direct = Learner.create(CONFIG)) {
                direct.step(pairs(0, 1, 2));
                direct.step(pairs(4, 5, 7));
                assertTensorsEqual(restored.learnerOf(0).snapshot().tensors(), direct.snapshot().tensors());
            }
        }
    }

    @Test
    void aBatchWithFewerThanTwoPairsIsConsumedWithoutAnUpdate() throws Exception {
        TrainingOperator operator = new TrainingOperator(CONFIG, true, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = harness(operator)) {
            h.open();
            skip(h, 0, "unpaired-timeout");
            skip(h, 1, "unpaired-timeout");
            skip(h, 2, "mismatched-views");
            send(h, 3, 4, 5, 6, 7);
            assertThat(steps(h)).extracting(m -> m.batch, m -> m.pairs, m -> m.skipped, m -> m.step)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(0L, 1, true, 0L),
                            org.assertj.core.groups.Tuple.tuple(1L, 4, false, 1L));
            assertThat(operator.learnerOf(0).skippedSteps()).isEqualTo(1);
        }
    }

    @Test
    void atTheEndOfTheInputBatchesBehindALostSeqStillTrain() throws Exception {
        TrainingOperator operator = new TrainingOperator(CONFIG, true, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = harness(operator)) {
            h.open();
            send(h, 0, 1, 3, 4, 5, 6, 7, 8, 9);               // seq 2 lost; 8, 9 an incomplete tail
            assertThat(steps(h)).isEmpty();
            h.endInput();
            assertThat(steps(h)).extracting(m -> m.pairs).containsExactly(3, 4);
        }
    }

    private static void assertTensorsEqual(Map<String, Tensor> actual, Map<String, Tensor> expected) {
        assertThat(actual.keySet()).isEqualTo(expected.keySet());
        for (String name : expected.keySet()) {
            assertThat(actual.get(name).data()).as(name).isEqualTo(expected.get(name).data());
        }
    }

    /**
     * With background-niceness, the learner's bytes reach the checkpoint through the lowered writer thread; with
     * snapshot compression (execution.checkpointing.snapshot-compression), through the backend's Snappy stream.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "background niceness {0}, snapshot compression {1}")
    @org.junit.jupiter.params.provider.CsvSource({"0, false", "1, false", "1, true"})
    void restoreFromACheckpointContinuesBitForBit(int backgroundNiceness, boolean compression) throws Exception {
        long[] all = new long[3 * BATCH];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        Map<String, Tensor> uninterrupted;
        List<Double> losses;
        TrainingOperator reference = new TrainingOperator(CONFIG, true, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = harness(reference)) {
            h.open();
            send(h, all);
            uninterrupted = reference.learnerOf(0).snapshot().tensors();
            losses = steps(h).stream().map(m -> m.loss).toList();
        }

        OperatorSubtaskState checkpoint;
        // a small chunk size forces every big tensor to be cut into several state entries
        TrainingOperator first = new TrainingOperator(CONFIG, true, 100, 4096).withBackgroundNiceness(backgroundNiceness);
        long handedOver = LearnerCpuPriority.bytesHandedOver();
        try (var h = harness(first)) {
            h.getExecutionConfig().setUseSnapshotCompression(compression);
            h.open();
            send(h, 0, 1, 2, 3, 4, 6);   // one batch trained, two pairs of the next waiting
            checkpoint = h.snapshot(1, 1);
        }
        if (backgroundNiceness > 0 && LearnerCpuPriority.usable()) {
            assertThat(LearnerCpuPriority.bytesHandedOver() - handedOver).isGreaterThan(0);
        }
        assertThat(checkpoint.getManagedOperatorState()).isNotEmpty();
        for (OperatorStateHandle handle : checkpoint.getManagedOperatorState()) {
            assertThat(writtenCompressed(handle)).as("operator state written compressed").isEqualTo(compression);
        }
        TrainingOperator second = new TrainingOperator(CONFIG, true, 100, 4096);
        try (var h = harness(second)) {
            h.initializeState(checkpoint);
            h.open();
            assertThat(second.learnerOf(0).steps()).isEqualTo(1);
            send(h, 5, 7, 8, 9, 10, 11);
            assertThat(steps(h)).extracting(m -> m.step).containsExactly(2L, 3L);
            assertThat(steps(h)).extracting(m -> m.loss).containsExactlyElementsOf(losses.subList(1, 3));
            Map<String, Tensor> resumed = second.learnerOf(0).snapshot().tensors();
            assertThat(resumed.keySet()).isEqualTo(uninterrupted.keySet());
            for (String name : uninterrupted.keySet()) {
                assertThat(resumed.get(name).data()).as(name).isEqualTo(uninterrupted.get(name).data());
            }
        }
    }

    /** Whether the operator state backend wrote {@code handle} through its compression stream (the header says). */
    private static boolean writtenCompressed(OperatorStateHandle handle) throws Exception {
        var proxy = new OperatorBackendSerializationProxy(TrainingOperatorTest.class.getClassLoader());
        try (var in = handle.openInputStream()) {
            proxy.read(new DataInputViewStreamWrapper(in));
        }
        // package-private in Flink 1.20; the restore reads the same flag to pick the decompressing stream
        Method flag = OperatorBackendSerializationProxy.class.getDeclaredMethod("isUsingStateCompression");
        flag.setAccessible(true);
        return (boolean) flag.invoke(proxy);
    }

    /** Writes a checkpoint the way earlier versions did: the learner in keyed state, none in operator state. */
    private static final class KeyedLayoutOperator extends TrainingOperator {
        private static final long serialVersionUID = 1L;

        KeyedLayoutOperator() {
            super(CONFIG, true, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        }

        @Override
        public void snapshotState(org.apache.flink.runtime.state.StateSnapshotContext context) throws Exception {
            super.snapshotState(context);
            setCurrentKey(0);
            TrainerState.learner(getRuntimeContext(), TrainingOperator.DEFAULT_MAX_CHUNK_BYTES)
                    .write(learnerOf(0).snapshot());
            getOperatorStateBackend().getUnionListState(TrainerState.LEARNER_DESCRIPTOR).clear();
        }
    }

    @Test
    void aCheckpointOfTheKeyedLayoutRestoresBitForBitAndMovesToOperatorState() throws Exception {
        long[] all = new long[3 * BATCH];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        Map<String, Tensor> uninterrupted;
        TrainingOperator reference = new TrainingOperator(CONFIG, true, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = harness(reference)) {
            h.open();
            send(h, all);
            uninterrupted = reference.learnerOf(0).snapshot().tensors();
        }
        OperatorSubtaskState old;
        KeyedLayoutOperator first = new KeyedLayoutOperator();
        try (var h = harness(first)) {
            h.open();
            send(h, 0, 1, 2, 3, 4, 6);
            old = h.snapshot(1, 1);
            assertThat(first.legacyLearnerEntries(0)).isNotEmpty();
            assertThat(first.storedLearnerEntries(0)).isEmpty();
        }
        TrainingOperator second = new TrainingOperator(CONFIG, true, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = harness(second)) {
            h.initializeState(old);
            h.open();
            assertThat(second.learnerOf(0).steps()).isEqualTo(1);
            send(h, 5, 7);
            h.snapshot(2, 2);
            assertThat(second.legacyLearnerEntries(0)).as("the keyed entries are cleared on restore").isEmpty();
            assertThat(second.storedLearnerEntries(0)).hasSize(uninterrupted.size());
            send(h, 8, 9, 10, 11);
            Map<String, Tensor> resumed = second.learnerOf(0).snapshot().tensors();
            for (String name : uninterrupted.keySet()) {
                assertThat(resumed.get(name).data()).as(name).isEqualTo(uninterrupted.get(name).data());
            }
        }
    }

    /** A checkpoint after a completed one copies the learner into the earlier one's arrays: restoring it is exact. */
    @Test
    void aCheckpointWrittenIntoTheArraysOfACompletedOneRestoresBitForBit() throws Exception {
        long[] all = new long[4 * BATCH];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        Map<String, Tensor> uninterrupted;
        TrainingOperator reference = new TrainingOperator(CONFIG, true, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = harness(reference)) {
            h.open();
            send(h, all);
            uninterrupted = reference.learnerOf(0).snapshot().tensors();
        }
        OperatorSubtaskState second;
        TrainingOperator first = new TrainingOperator(CONFIG, true, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = harness(first)) {
            h.open();
            send(h, 0, 1, 2, 3);
            h.snapshot(1, 1);
            h.notifyOfCompletedCheckpoint(1);
            send(h, 4, 5, 6, 7, 8);
            second = h.snapshot(2, 2);
        }
        TrainingOperator restored = new TrainingOperator(CONFIG, true, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = harness(restored)) {
            h.initializeState(second);
            h.open();
            assertThat(restored.learnerOf(0).steps()).isEqualTo(2);
            send(h, 9, 10, 11, 12, 13, 14, 15);
            Map<String, Tensor> resumed = restored.learnerOf(0).snapshot().tensors();
            for (String name : uninterrupted.keySet()) {
                assertThat(resumed.get(name).data()).as(name).isEqualTo(uninterrupted.get(name).data());
            }
        }
    }

    @Test
    void aRestoreWithAnotherChunkSizeContinuesAndLeavesNoStaleChunks() throws Exception {
        long[] all = new long[3 * BATCH];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        Map<String, Tensor> uninterrupted;
        TrainingOperator reference = new TrainingOperator(CONFIG, true, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = harness(reference)) {
            h.open();
            send(h, all);
            uninterrupted = reference.learnerOf(0).snapshot().tensors();
        }

        OperatorSubtaskState small;
        TrainingOperator first = new TrainingOperator(CONFIG, true, 100, 4096);
        try (var h = harness(first)) {
            h.open();
            send(h, 0, 1, 2, 3);
            small = h.snapshot(1, 1);
            assertThat(first.storedLearnerEntries(0)).as("4 KB chunks cut the big tensors").anyMatch(n -> n.endsWith("#1"));
        }
        OperatorSubtaskState large;
        TrainingOperator second = new TrainingOperator(CONFIG, true, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = harness(second)) {
            h.initializeState(small);
            h.open();
            send(h, 4, 5, 6, 7);
            large = h.snapshot(2, 2);
            List<String> entries = second.storedLearnerEntries(0);
            assertThat(entries).as("one entry per tensor, the 4 KB chunks removed").allMatch(n -> n.endsWith("#0"));
            assertThat(entries).hasSize(uninterrupted.size());
        }
        TrainingOperator third = new TrainingOperator(CONFIG, true, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = harness(third)) {
            h.initializeState(large);
            h.open();
            assertThat(third.learnerOf(0).steps()).isEqualTo(2);
            send(h, 8, 9, 10, 11);
            Map<String, Tensor> resumed = third.learnerOf(0).snapshot().tensors();
            for (String name : uninterrupted.keySet()) {
                assertThat(resumed.get(name).data()).as(name).isEqualTo(uninterrupted.get(name).data());
            }
        }
    }

    @Test
    void arrivalBatchingRestoresItsPartialBatch() throws Exception {
        long[] all = {40, 17, 3, 99, 5, 6, 70, 8, 9, 11, 12, 13};
        List<Double> losses;
        Map<String, Tensor> uninterrupted;
        TrainingOperator reference = new TrainingOperator(CONFIG, false, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = harness(reference)) {
            h.open();
            send(h, all);
            losses = steps(h).stream().map(m -> m.loss).toList();
            uninterrupted = reference.learnerOf(0).snapshot().tensors();
        }
        OperatorSubtaskState checkpoint;
        try (var h = harness(new TrainingOperator(CONFIG, false, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES))) {
            h.open();
            send(h, 40, 17, 3, 99, 5, 6);   // one batch trained, two pairs of the next one waiting
            checkpoint = h.snapshot(1, 1);
        }
        TrainingOperator second = new TrainingOperator(CONFIG, false, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = harness(second)) {
            h.initializeState(checkpoint);
            h.open();
            send(h, 70, 8, 9, 11, 12, 13);
            assertThat(steps(h)).extracting(m -> m.firstSeq).containsExactly(5L, 9L);
            assertThat(steps(h)).extracting(m -> m.loss).containsExactlyElementsOf(losses.subList(1, 3));
            Map<String, Tensor> resumed = second.learnerOf(0).snapshot().tensors();
            for (String name : uninterrupted.keySet()) {
                assertThat(resumed.get(name).data()).as(name).isEqualTo(uninterrupted.get(name).data());
            }
        }
    }

    @Test
    void arrivalBatchingTrainsEveryBPairsAndPublishesEncoders() throws Exception {
        TrainingOperator operator = new TrainingOperator(CONFIG, false, 2, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = harness(operator)) {
            h.open();
            send(h, 40, 17, 3, 99, 5, 6, 70, 8, 9);
            assertThat(steps(h)).extracting(m -> m.firstSeq).containsExactly(40L, 5L);
            var updates = new ArrayList<>(h.getSideOutput(TrainingOperator.MODEL_UPDATES));
            assertThat(updates).singleElement().satisfies(r -> {
                assertThat(r.getValue().version).isEqualTo(2);
                assertThat(r.getValue().encoderState).isNotEmpty();
            });
        }
    }
}
