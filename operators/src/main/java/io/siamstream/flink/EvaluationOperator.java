package io.siamstream.flink;

import ai.djl.Device;
import io.siamstream.eval.EvaluationSet;
import io.siamstream.record.EvalReport;
import io.siamstream.record.ModelUpdate;
import io.siamstream.train.LearnerConfig;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.YieldingOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.function.SerializableSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluates model updates on the latest version only, off the task thread, so that evaluation never holds the
 * trainer back.
 *
 * <p>One update at a time is <em>in flight</em> on a single background worker thread; at most one more
 * <em>waits</em>. A newer update replaces the waiting one, which is counted in {@code skippedVersions}.
 * {@link #processElement} only does that bookkeeping and returns, so the task thread keeps draining its input (and,
 * chained to the trainer, keeps training) however long an evaluation takes. The worker hands its report back
 * through the operator's {@link MailboxExecutor}: the report is emitted, and the next waiting update started, on the
 * task thread, between records; a failed evaluation is rethrown there and fails the task.
 *
 * <p>Exactly once. A report is emitted on the task thread, so it belongs to the checkpoint after it. A checkpoint
 * stores the update in flight and the waiting one (operator ListState {@code evaluation-queue}, in that order) and
 * how many evaluations have completed; a restore starts them again. So a recovery never loses the evaluation of a
 * version that was waiting or in flight at the checkpoint, and what it undoes (reports emitted after the checkpoint)
 * is made again.
 *
 * <p>End of input. {@link #endInput} waits (yielding to the mailbox) until nothing is in flight or waiting: the final
 * version, which arrives last, is always evaluated.
 *
 * <p>The evaluation itself is an {@link EvaluationFactory}: {@link #standard} builds the kNN / linear probe /
 * collapse evaluation of {@code io.siamstream.eval}; tests plug in their own. The linear probe runs on every
 * {@code linearEvery}-th evaluation (0: never). Updates for another model (fingerprint) are counted in
 * {@code rejectedUpdates} and dropped. Gauges: knnTop1, linearTop1, featureStd, healthyFeatureStd, evaluatedVersion of the latest
 * report.
 */
public class EvaluationOperator extends AbstractStreamOperator<EvalReport>
        implements OneInputStreamOperator<ModelUpdate, EvalReport>, BoundedOneInput, YieldingOperator<EvalReport> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(EvaluationOperator.class);
    /** How long close() waits for an evaluation in progress before abandoning it (its result is dropped). */
    private static final long CLOSE_WAIT_SECONDS = 10;

    /** Makes the evaluation of one subtask; serializable, it travels with the job graph. */
    @FunctionalInterface
    public interface EvaluationFactory extends Serializable {
        /** Called once, on the worker thread, before the first evaluation, when {@link #deviceOption} is null. */
        Evaluation create() throws Exception;

        /**
         * The {@code train.device} option of an evaluation that runs on the engine, or null for one that does not.
         * With an option, the operator decides the device in open() by the trainer's rule (the TaskManager's GPUs
         * of the external resource {@code gpu} first) and calls {@link #create(Device)}.
         */
        default String deviceOption() {
            return null;
        }

        /** Called once, on the worker thread, before the first evaluation, with the device the operator decided. */
        default Evaluation create(Device device) throws Exception {
            return create();
        }
    }

    /** Evaluates model updates; used by one worker thread only, closed on it. */
    @FunctionalInterface
    public interface Evaluation extends AutoCloseable {
        EvalReport evaluate(ModelUpdate update, boolean linearProbe) throws Exception;

        @Override
        default void close() throws Exception {}
    }

    private final String fingerprint;
    private final int linearEvery;
    private final EvaluationFactory factory;

    private transient MailboxExecutor mailbox;
    private transient ExecutorService worker;
    /** The device decided in open() for an evaluation with a device option; null otherwise. */
    private transient Device device;
    /** Touched by the worker thread only. */
    private transient Evaluation evaluation;

    // task-thread state
    private transient ModelUpdate inFlight;
    private transient ModelUpdate waiting;
    /** Evaluations completed (reports emitted, or restored as emitted). */
    private transient long completed;
    private transient boolean copyInput;
    private transient List<ModelUpdate> restored;
    private transient ListState<ModelUpdate> queueState;
    private transient ListState<Long> completedState;

    private transient Counter rejected;
    private transient Counter skipped;
    private transient volatile EvalReport latest;

    public EvaluationOperator(String fingerprint, int linearEvery, EvaluationFactory factory) {
        if (linearEvery < 0) {
            throw new IllegalArgumentException("eval.linear-every: " + linearEvery + " must be >= 0 (0 = never)");
        }
        this.fingerprint = fingerprint;
        this.linearEvery = linearEvery;
        this.factory = factory;
        // chained behind the trainer the update is handed over by reference, not serialized (the encoder's weights)
        this.chainingStrategy = ChainingStrategy.ALWAYS;
    }

    /** The kNN / linear probe / collapse evaluation of {@code data} for models of {@code config}. */
    public static EvaluationOperator standard(LearnerConfig config, SerializableSupplier<EvaluationSet> data,
                                              int linearEvery) {
        return new EvaluationOperator(config.modelFingerprint(), linearEvery, new StandardEvaluation(config, data));
    }

    @Override
    public void setMailboxExecutor(MailboxExecutor mailboxExecutor) {
        this.mailbox = mailboxExecutor;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        var store = context.getOperatorStateStore();
        queueState = store.getListState(new ListStateDescriptor<>("evaluation-queue", TypeInformation.of(ModelUpdate.class)));
        completedState = store.getListState(new ListStateDescriptor<>("evaluations-completed", Types.LONG));
        restored = new ArrayList<>();
        completed = 0;
        if (context.isRestored()) {
            queueState.get().forEach(restored::add);
            for (Long count : completedState.get()) {
                completed = Math.max(completed, count);
            }
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        if (mailbox == null) {
            throw new IllegalStateException("no mailbox executor: create the operator through StreamOperatorFactoryUtil");
        }
        copyInput = getExecutionConfig().isObjectReuseEnabled();
        var metrics = getRuntimeContext().getMetricGroup();
        metrics.gauge("knnTop1", () -> latest == null ? Double.NaN : latest.knnTop1);
        metrics.gauge("linearTop1", () -> latest == null ? Double.NaN : latest.linearTop1);
        metrics.gauge("featureStd", () -> latest == null ? Double.NaN : latest.featureStd);
        metrics.gauge("healthyFeatureStd", () -> latest == null ? Double.NaN : latest.healthyFeatureStd);
        metrics.gauge("evaluatedVersion", () -> latest == null ? -1L : latest.version);
        String option = factory.deviceOption();
        device = option == null ? null : ExternalGpus.choose(option, getRuntimeContext(), metrics, LOG, "evaluation");
        rejected = metrics.counter("rejectedUpdates");
        skipped = metrics.counter("skippedVersions");
        worker = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(() -> {
                try {
                    runnable.run();
                } finally {
                    closeEvaluation();
                }
            }, "evaluation worker of " + getOperatorName());
            thread.setDaemon(true);
            return thread;
        });
        // what was in flight, then what was waiting (after a rescale: several lists, the newest waits)
        restored.sort((a, b) -> Long.compare(a.version, b.version));
        for (ModelUpdate update : restored) {
            LOG.info("evaluation of restored version {} starts again", update.version);
            offer(update);
        }
        restored = null;
    }

    @Override
    public void processElement(StreamRecord<ModelUpdate> element) {
        ModelUpdate update = element.getValue();
        if (!fingerprint.equals(update.fingerprint)) {
            rejected.inc();
            LOG.warn("model update {} is for '{}', not this evaluation's '{}': skipped", update.version,
                    update.fingerprint, fingerprint);
            return;
        }
        offer(copyInput ? copy(update) : update);
    }

    /** The update is evaluated now if the worker is free, else it waits, replacing (and skipping) a waiting one. */
    private void offer(ModelUpdate update) {
        if (inFlight == null) {
            start(update);
            return;
        }
        if (waiting != null) {
            skipped.inc();
            LOG.debug("evaluation of version {} skipped: version {} replaces it while {} is evaluated", waiting.version,
                    update.version, inFlight.version);
        }
        waiting = update;
    }

    private void start(ModelUpdate update) {
        inFlight = update;
        long ordinal = completed + 1;
        boolean linear = linearEvery > 0 && ordinal % linearEvery == 0;
        worker.execute(() -> evaluateOnWorker(update, linear));
    }

    /** On the worker thread: evaluates, then hands the report (or the failure) to the task thread. */
    private void evaluateOnWorker(ModelUpdate update, boolean linear) {
        EvalReport report;
        try {
            if (evaluation == null) {
                evaluation = device == null ? factory.create() : factory.create(device);
            }
            report = evaluation.evaluate(update, linear);
        } catch (Throwable t) {
            handBack(() -> {
                throw new EvaluationFailedException("evaluation of model version " + update.version + " failed", t);
            }, update);
            return;
        }
        handBack(() -> finished(update, report), update);
    }

    private void handBack(org.apache.flink.util.function.ThrowingRunnable<? extends Exception> mail, ModelUpdate update) {
        try {
            mailbox.execute(mail, "evaluation of model version %d", update.version);
        } catch (RejectedExecutionException e) {
            LOG.info("evaluation of version {} ended after its task stopped: dropped", update.version);
        }
    }

    /** On the task thread: emits the report and starts the waiting update. */
    private void finished(ModelUpdate update, EvalReport report) {
        if (inFlight != update) {
            return; // not this operator instance's evaluation any more (cannot happen while the task runs)
        }
        inFlight = null;
        completed++;
        latest = report;
        LOG.info("evaluation {}", report);
        output.collect(new StreamRecord<>(report));
        if (waiting != null) {
            ModelUpdate next = waiting;
            waiting = null;
            start(next);
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        List<ModelUpdate> queue = new ArrayList<>(2);
        if (inFlight != null) {
            queue.add(inFlight);
        }
        if (waiting != null) {
            queue.add(waiting);
        }
        queueState.update(queue);
        completedState.update(List.of(completed));
    }

    /** The input has ended: evaluates what is in flight and what waits (the final version) before finishing. */
    @Override
    public void endInput() throws Exception {
        while (inFlight != null || waiting != null) {
            mailbox.yield();
        }
    }

    @Override
    public void close() throws Exception {
        try {
            if (worker != null) {
                worker.shutdownNow();
                if (!worker.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                    LOG.warn("the evaluation of version {} is still running {} s after close: abandoned, its result is"
                            + " dropped", inFlight == null ? -1 : inFlight.version, CLOSE_WAIT_SECONDS);
                }
            }
        } finally {
            worker = null;
            super.close();
        }
    }

    private void closeEvaluation() {
        if (evaluation != null) {
            try {
                evaluation.close();
            } catch (Exception e) {
                LOG.warn("closing the evaluation failed", e);
            }
            evaluation = null;
        }
    }

    private static ModelUpdate copy(ModelUpdate u) {
        ModelUpdate c = new ModelUpdate();
        c.replica = u.replica;
        c.version = u.version;
        c.fingerprint = u.fingerprint;
        c.encoderState = u.encoderState;
        c.loss = u.loss;
        c.projectionStd = u.projectionStd;
        c.outputStd = u.outputStd;
        c.wallTimeMillis = u.wallTimeMillis;
        return c;
    }

    /** The device the evaluation runs on, or null when its factory has no device option (tests). */
    Device device() {
        return device;
    }

    /** The version evaluated now, or -1 (tests). */
    long inFlightVersion() {
        return inFlight == null ? -1 : inFlight.version;
    }

    /** The version waiting, or -1 (tests). */
    long waitingVersion() {
        return waiting == null ? -1 : waiting.version;
    }

    /**
     * An evaluation failed on the worker thread; thrown on the task thread, it fails the task. Unchecked, so the
     * mailbox does not wrap it.
     */
    public static final class EvaluationFailedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        EvaluationFailedException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
