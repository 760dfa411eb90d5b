package io.siamstream.flink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.record.EvalReport;
import io.siamstream.record.ModelUpdate;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The evaluator on a harness with a blocking evaluation: only the latest version waits, the rest are skipped and
 * counted; the final version is evaluated at the end of the input; a checkpoint keeps what is in flight and waiting.
 */
class EvaluationOperatorTest {

    private static final String FINGERPRINT = "test-model";

    /** The versions whose evaluation began, in order (the worker thread adds, the test takes). */
    private static final BlockingQueue<Long> STARTED = new LinkedBlockingQueue<>();
    /** One permit lets one evaluation finish. */
    private static final Semaphore RELEASE = new Semaphore(0);

    @BeforeEach
    void reset() {
        STARTED.clear();
        RELEASE.drainPermits();
    }

    /** An evaluation that announces itself and then blocks until the test releases it. */
    private static EvaluationOperator blocking(int linearEvery) {
        return new EvaluationOperator(FINGERPRINT, linearEvery, () -> (update, linear) -> {
            STARTED.add(update.version);
            if (!RELEASE.tryAcquire(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test never released the evaluation of " + update.version);
            }
            EvalReport report = new EvalReport();
            report.version = update.version;
            report.knnTop1 = update.version / 1000.0;
            report.linearTop1 = linear ? 1.0 : Double.NaN;
            return report;
        });
    }

    private static ModelUpdate update(long version) {
        ModelUpdate u = new ModelUpdate();
        u.version = version;
        u.fingerprint = FINGERPRINT;
        u.encoderState = new byte[] {(byte) version};
        return u;
    }

    private static OneInputStreamOperatorTestHarness<ModelUpdate, EvalReport> harness(
            EvaluationOperator operator, FlinkTestSupport.Metrics metrics) throws Exception {
        // through a factory, as the runtime creates operators: that is where a YieldingOperator gets its mailbox
        return new OneInputStreamOperatorTestHarness<>(new Factory(operator), FlinkTestSupport.environment(metrics));
    }

    private static final class Factory extends SimpleOperatorFactory<EvalReport>
            implements OneInputStreamOperatorFactory<ModelUpdate, EvalReport> {
        Factory(EvaluationOperator operator) {
            super(operator);
        }
    }

    private static void send(OneInputStreamOperatorTestHarness<ModelUpdate, EvalReport> h, long... versions)
            throws Exception {
        for (long v : versions) {
            h.processElement(new StreamRecord<>(update(v)));
        }
    }

    private static List<Long> reported(OneInputStreamOperatorTestHarness<ModelUpdate, EvalReport> h) {
        return h.extractOutputValues().stream().map(r -> r.version).toList();
    }

    private static long nextStarted() throws InterruptedException {
        Long v = STARTED.poll(30, TimeUnit.SECONDS);
        assertThat(v).as("an evaluation started").isNotNull();
        return v;
    }

    /** Runs the task's mail (what the worker handed back) until {@code done}, as the task thread would. */
    private static void runMailUntil(OneInputStreamOperatorTestHarness<?, ?> h, BooleanSupplier done) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as("mail in time").isLessThan(deadline);
            var mail = h.getTaskMailbox().tryTake(TaskMailbox.MIN_PRIORITY);
            if (mail.isPresent()) {
                mail.get().run();
            } else {
                Thread.sleep(5);
            }
        }
    }

    @Test
    void onlyTheNewestWaitsTheRestAreSkippedAndTheFinalVersionIsEvaluated() throws Exception {
        var metrics = new FlinkTestSupport.Metrics();
        EvaluationOperator operator = blocking(2);
        try (var h = harness(operator, metrics)) {
            h.open();
            send(h, 5);
            assertThat(nextStarted()).isEqualTo(5);
            send(h, 10, 15, 20, 25);        // processElement returns at once while 5 is evaluated
            assertThat(operator.inFlightVersion()).isEqualTo(5);
            assertThat(operator.waitingVersion()).isEqualTo(25);
            assertThat(metrics.count("skippedVersions")).as("10, 15 and 20 were replaced").isEqualTo(3);
            assertThat(reported(h)).isEmpty();

            RELEASE.release();
            runMailUntil(h, () -> !reported(h).isEmpty());
            assertThat(reported(h)).containsExactly(5L);
            assertThat(nextStarted()).as("the waiting version starts when the worker is free").isEqualTo(25);

            send(h, 30);                     // the final version: waits behind 25
            RELEASE.release(2);
            h.endInput();                    // waits for 25, then evaluates 30
            assertThat(reported(h)).containsExactly(5L, 25L, 30L);
            assertThat(h.extractOutputValues()).extracting(r -> Double.isNaN(r.linearTop1))
                    .as("the linear probe runs on every 2nd evaluation").containsExactly(true, false, true);
            assertThat(metrics.count("skippedVersions")).isEqualTo(3);
            assertThat(operator.inFlightVersion()).isEqualTo(-1);
        }
    }

    @Test
    void aRestoreEvaluatesWhatWasInFlightAndWaitingAtTheCheckpoint() throws Exception {
        OperatorSubtaskState checkpoint;
        try (var h = harness(blocking(2), new FlinkTestSupport.Metrics())) {
            h.open();
            send(h, 5);
            assertThat(nextStarted()).isEqualTo(5);
            send(h, 10);
            checkpoint = h.snapshot(1, 1);   // 5 in flight, 10 waiting
            RELEASE.release();
            runMailUntil(h, () -> !reported(h).isEmpty());
            // this report came after the checkpoint: a recovery to it undoes the report, so must evaluate 5 again
            assertThat(reported(h)).containsExactly(5L);
            assertThat(nextStarted()).isEqualTo(10);
        }
        STARTED.clear();
        RELEASE.drainPermits();

        EvaluationOperator restored = blocking(2);
        try (var h = harness(restored, new FlinkTestSupport.Metrics())) {
            h.initializeState(checkpoint);
            h.open();
            assertThat(nextStarted()).as("what was in flight starts again").isEqualTo(5);
            assertThat(restored.waitingVersion()).as("and what waited waits again").isEqualTo(10);
            RELEASE.release(2);
            h.endInput();
            assertThat(reported(h)).containsExactly(5L, 10L);
            assertThat(h.extractOutputValues()).extracting(r -> Double.isNaN(r.linearTop1))
                    .as("the restored count of evaluations: 5 is the 1st, 10 the 2nd").containsExactly(true, false);
        }
    }

    @Test
    void aFailedEvaluationFailsTheTaskAndUpdatesOfAnotherModelAreRejected() throws Exception {
        var metrics = new FlinkTestSupport.Metrics();
        EvaluationOperator failing = new EvaluationOperator(FINGERPRINT, 0, () -> (update, linear) -> {
            throw new IllegalStateException("no evaluation of " + update.version);
        });
        try (var h = harness(failing, metrics)) {
            h.open();
            ModelUpdate other = update(3);
            other.fingerprint = "another-model";
            h.processElement(new StreamRecord<>(other));
            assertThat(metrics.count("rejectedUpdates")).isEqualTo(1);
            assertThat(failing.inFlightVersion()).isEqualTo(-1);
            send(h, 7);
            assertThatThrownBy(h::endInput)
                    .isInstanceOf(EvaluationOperator.EvaluationFailedException.class)
                    .hasMessageContaining("version 7")
                    .hasRootCauseMessage("no evaluation of 7");
        }
    }
}
