package io.siamstream.flink;

import static io.siamstream.flink.FlinkTestSupport.deadLetters;
import static io.siamstream.flink.FlinkTestSupport.environment;
import static io.siamstream.flink.FlinkTestSupport.half;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.record.View;
import io.siamstream.record.ViewPair;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** The pairing operator in Flink's keyed test harness: order, state written only at checkpoints, timeouts, restore. */
@SuppressWarnings("try") // harnesses and environments are closed by try-with-resources
class PairViewsOperatorTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private static KeyedOneInputStreamOperatorTestHarness<Long, View, ViewPair> harness(MockEnvironment env)
            throws Exception {
        return harness(env, new PairViewsOperator(TIMEOUT));
    }

    private static KeyedOneInputStreamOperatorTestHarness<Long, View, ViewPair> harness(MockEnvironment env,
            PairViewsOperator operator) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(operator, new AugmentationTopology.BySeq(), Types.LONG, env);
    }

    private static KeyedOneInputStreamOperatorTestHarness<Long, View, ViewPair> opened(MockEnvironment env)
            throws Exception {
        return opened(env, new PairViewsOperator(TIMEOUT));
    }

    private static KeyedOneInputStreamOperatorTestHarness<Long, View, ViewPair> opened(MockEnvironment env,
            PairViewsOperator operator) throws Exception {
        var harness = harness(env, operator);
        harness.setProcessingTime(0);
        harness.open();
        return harness;
    }

    private static ViewPair pairOf(View v1, View v2) {
        return new ViewPair(v1.id, v1.seq, v1.epoch, v1.channels, v1.height, v1.width, v1.data, v2.data, v1.label);
    }

    @Test
    void pairsHalvesInAnyOrderWithoutTouchingKeyedStateBetweenCheckpoints() throws Exception {
        FlinkTestSupport.Metrics metrics = new FlinkTestSupport.Metrics();
        PairViewsOperator operator = new PairViewsOperator(TIMEOUT);
        try (MockEnvironment env = environment(metrics); var harness = opened(env, operator)) {
            harness.processElement(half(1, 1, 1.5f), 0);  // seq 1: the second view first
            harness.processElement(half(2, 0, 2.0f), 0);
            assertThat(harness.extractOutputValues()).isEmpty();
            assertThat(operator.waitingHalves()).isEqualTo(2);
            assertThat(harness.numKeyedStateEntries()).as("halves are written only at a checkpoint").isZero();
            assertThat(harness.numProcessingTimeTimers()).as("no per-key timers").isZero();

            harness.processElement(half(1, 0, 1.0f), 0);
            harness.processElement(half(2, 1, 2.5f), 0);

            assertThat(harness.extractOutputValues()).containsExactly(
                    pairOf(half(1, 0, 1.0f), half(1, 1, 1.5f)), pairOf(half(2, 0, 2.0f), half(2, 1, 2.5f)));
            assertThat(operator.waitingHalves()).isZero();
            assertThat(harness.numKeyedStateEntries()).isZero();
            harness.setProcessingTime(TIMEOUT.toMillis() * 2); // nothing left to time out
            assertThat(deadLetters(harness)).isEmpty();
            assertThat(metrics.count("pairs")).isEqualTo(2);
            assertThat(metrics.count("unpairedTimeouts")).isZero();
            assertThat(metrics.count("deadLetters")).isZero();
        }
    }

    @Test
    void aDuplicateHalfIsDeadLetteredAndTheFirstCopyIsKept() throws Exception {
        FlinkTestSupport.Metrics metrics = new FlinkTestSupport.Metrics();
        try (MockEnvironment env = environment(metrics); var harness = opened(env)) {
            harness.processElement(half(5, 0, 0.25f), 0);
            harness.processElement(half(5, 0, 9.0f), 0);
            harness.processElement(half(5, 1, 0.75f), 0);
            assertThat(harness.extractOutputValues()).containsExactly(pairOf(half(5, 0, 0.25f), half(5, 1, 0.75f)));
            assertThat(deadLetters(harness)).singleElement().satisfies(d -> {
                assertThat(d.reason).isEqualTo("duplicate-view");
                assertThat(d.stage).isEqualTo("pair-views");
                assertThat(d.seq).isEqualTo(5);
            });
            assertThat(metrics.count("pairs")).isEqualTo(1);
            assertThat(metrics.count("deadLetters")).isEqualTo(1);
        }
    }

    @Test
    void aLonelyHalfTimesOutWithADeadLetter() throws Exception {
        FlinkTestSupport.Metrics metrics = new FlinkTestSupport.Metrics();
        PairViewsOperator operator = new PairViewsOperator(TIMEOUT);
        try (MockEnvironment env = environment(metrics); var harness = opened(env, operator)) {
            harness.processElement(half(7, 1, 0.5f), 0);
            harness.setProcessingTime(TIMEOUT.toMillis() / 2);
            harness.processElement(half(8, 0, 0.5f), 0);   // waits until 1.5 x TIMEOUT
            harness.setProcessingTime(TIMEOUT.toMillis() - 1);
            assertThat(deadLetters(harness)).isEmpty();
            harness.setProcessingTime(TIMEOUT.toMillis());

            assertThat(harness.extractOutputValues()).as("the trainer learns that seq 7 has no pair")
                    .containsExactly(ViewPair.skipMarker(7, 7, 0, "unpaired-timeout"));
            assertThat(deadLetters(harness)).singleElement().satisfies(d -> {
                assertThat(d.reason).isEqualTo("unpaired-timeout");
                assertThat(d.stage).isEqualTo("pair-views");
                assertThat(d.seq).isEqualTo(7);
                assertThat(d.id).isEqualTo(7);
                assertThat(d.detail).contains("view 1 waited 10000 ms");
            });
            assertThat(operator.waitingHalves()).isEqualTo(1);
            harness.setProcessingTime(TIMEOUT.toMillis() * 3 / 2);
            assertThat(deadLetters(harness)).extracting(d -> d.seq).containsExactly(7L, 8L);
            assertThat(operator.waitingHalves()).isZero();
            assertThat(metrics.count("unpairedTimeouts")).isEqualTo(2);
            assertThat(metrics.count("deadLetters")).isEqualTo(2);
            assertThat(metrics.count("skipMarkers")).isEqualTo(2);
            assertThat(metrics.count("pairs")).isZero();
        }
    }

    @Test
    void aRejectedHalfMakesASkipMarkerWithoutASecondDeadLetter() throws Exception {
        FlinkTestSupport.Metrics metrics = new FlinkTestSupport.Metrics();
        try (MockEnvironment env = environment(metrics); var harness = opened(env)) {
            harness.processElement(half(5, 0, 0.5f), 0);
            harness.processElement(View.rejected(5, 5, 0, 1, "augment-view2: nan-pixels"), 0);
            harness.processElement(View.rejected(6, 6, 0, 1, "augment-view2: no-pixels"), 0);
            harness.processElement(View.rejected(6, 6, 0, 0, "augment-view1: no-pixels"), 0);

            assertThat(harness.extractOutputValues()).containsExactly(
                    ViewPair.skipMarker(5, 5, 0, "augment-view2: nan-pixels"),
                    ViewPair.skipMarker(6, 6, 0, "augment-view1: no-pixels"));
            assertThat(deadLetters(harness)).as("the augmentation operators dead-lettered them already").isEmpty();
            assertThat(metrics.count("skipMarkers")).isEqualTo(2);
            assertThat(metrics.count("pairs")).isZero();
        }
    }

    @Test
    void aCheckpointHoldsExactlyTheHalvesWaitingAtTheBarrier() throws Exception {
        try (MockEnvironment env = environment(new FlinkTestSupport.Metrics()); var harness = opened(env)) {
            harness.processElement(half(1, 0, 1.0f), 0);
            harness.processElement(half(2, 1, 2.0f), 0);
            harness.snapshot(1, 1);
            assertThat(harness.numKeyedStateEntries()).isEqualTo(4); // two keys x (pending view, deadline)

            harness.processElement(half(1, 1, 1.5f), 0);          // seq 1 pairs, seq 3 starts waiting
            harness.processElement(half(3, 0, 3.0f), 0);
            assertThat(harness.numKeyedStateEntries()).as("unchanged until the next checkpoint").isEqualTo(4);
            harness.snapshot(2, 2);
            assertThat(harness.numKeyedStateEntries()).as("seq 2 and seq 3").isEqualTo(4);

            harness.processElement(half(2, 0, 2.5f), 0);
            harness.processElement(half(3, 1, 3.5f), 0);
            harness.snapshot(3, 3);
            assertThat(harness.numKeyedStateEntries()).isZero();
            assertThat(harness.extractOutputValues()).hasSize(3);
        }
    }

    @Test
    void aPendingHalfSurvivesSnapshotAndRestoreIntoANewOperator() throws Exception {
        OperatorSubtaskState snapshot;
        try (MockEnvironment env = environment(new FlinkTestSupport.Metrics()); var before = opened(env)) {
            before.processElement(half(9, 1, 0.9f), 0);
            before.processElement(half(3, 0, 0.3f), 0);
            before.processElement(half(3, 1, 0.4f), 0); // seq 3 completes before the snapshot
            assertThat(before.extractOutputValues()).hasSize(1);
            snapshot = before.snapshot(0, 0);
        }

        FlinkTestSupport.Metrics metrics = new FlinkTestSupport.Metrics();
        PairViewsOperator restored = new PairViewsOperator(TIMEOUT);
        try (MockEnvironment env = environment(metrics); var after = harness(env, restored)) {
            after.setProcessingTime(0);
            after.initializeState(snapshot);
            after.open();
            assertThat(after.numKeyedStateEntries()).isEqualTo(2); // only seq 9's half and its deadline
            assertThat(restored.waitingHalves()).isEqualTo(1);

            after.processElement(half(9, 0, 0.8f), 0);

            assertThat(after.extractOutputValues()).containsExactly(pairOf(half(9, 0, 0.8f), half(9, 1, 0.9f)));
            assertThat(restored.waitingHalves()).isZero();
            after.snapshot(1, 1);
            assertThat(after.numKeyedStateEntries()).as("the next checkpoint drops the paired half").isZero();
            after.setProcessingTime(TIMEOUT.toMillis() * 2);
            assertThat(deadLetters(after)).isEmpty();
            assertThat(metrics.count("pairs")).isEqualTo(1);
        }

        // A restore long after the saved deadline (downtime of 5 timeouts): the half waits a whole timeout from the
        // restore, since its partner may still be on its way; then the timer fires for a partner that never comes.
        long restoredAt = 5 * TIMEOUT.toMillis();
        FlinkTestSupport.Metrics metrics2 = new FlinkTestSupport.Metrics();
        try (MockEnvironment env = environment(metrics2); var lonely = harness(env)) {
            lonely.setProcessingTime(restoredAt);
            lonely.initializeState(snapshot);
            lonely.open();
            lonely.setProcessingTime(restoredAt + TIMEOUT.toMillis() - 1);
            assertThat(deadLetters(lonely)).as("the timeout counts from the restore").isEmpty();
            lonely.setProcessingTime(restoredAt + TIMEOUT.toMillis());
            assertThat(deadLetters(lonely)).extracting(d -> d.reason, d -> d.seq)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("unpaired-timeout", 9L));
            assertThat(lonely.extractOutputValues()).extracting(p -> p.seq, p -> p.skip)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(9L, "unpaired-timeout"));
            lonely.snapshot(1, 1);
            assertThat(lonely.numKeyedStateEntries()).isZero();
            assertThat(metrics2.count("unpairedTimeouts")).isEqualTo(1);
        }
    }

    @Test
    void halvesThatDoNotBelongTogetherOrHaveABadIndexAreDeadLettered() throws Exception {
        FlinkTestSupport.Metrics metrics = new FlinkTestSupport.Metrics();
        try (MockEnvironment env = environment(metrics); var harness = opened(env)) {
            View other = half(4, 1, 0.1f);
            other.epoch = 99;
            harness.processElement(half(4, 0, 0.1f), 0);
            harness.processElement(other, 0);
            View bad = half(6, 2, 0.1f);
            harness.processElement(bad, 0);

            assertThat(harness.extractOutputValues()).as("seq 4 lost its pair; a bad index resolves no seq")
                    .containsExactly(ViewPair.skipMarker(4, 4, 0, "mismatched-views"));
            List<String> reasons = deadLetters(harness).stream().map(d -> d.reason).toList();
            assertThat(reasons).containsExactly("mismatched-views", "bad-view-index");
            harness.snapshot(1, 1);
            assertThat(harness.numKeyedStateEntries()).isZero();
            assertThat(metrics.count("deadLetters")).isEqualTo(2);
        }
    }

    @Test
    void theTimeoutMustBePositive() {
        assertThatThrownBy(() -> new PairViewsOperator(Duration.ZERO)).hasMessageContaining("pair-views.timeout");
        assertThatThrownBy(() -> new PairViewsOperator(null)).hasMessageContaining("pair-views.timeout");
    }
}
