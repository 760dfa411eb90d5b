package io.siamstream.flink;

import io.siamstream.record.DeadLetter;
import io.siamstream.record.View;
import io.siamstream.record.ViewPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Joins the two views of one image occurrence, keyed by {@link View#seq}, into a {@link ViewPair} (view1 = index 0,
 * view2 = index 1), whatever order they arrive in. The first half waits with a processing-time deadline; when its
 * partner arrives the pair is emitted and the half is forgotten. A half whose partner does not come within the
 * timeout is dropped with an {@code unpaired-timeout} dead letter. A keyed operator: apply it to views keyed by seq
 * ({@code keyBy(new AugmentationTopology.BySeq()).transform(...)}).
 *
 * <p>State. The waiting halves live on the heap, in arrival (= deadline) order, and are written to keyed state
 * ({@code pending-view} and {@code pending-deadline} under the half's seq) only when a checkpoint is taken
 * ({@link #snapshotState} runs before the keyed backend is snapshotted): halves that arrived since the last
 * checkpoint and still wait are written, halves written before and paired or timed out since are cleared. The
 * checkpoint therefore holds exactly the waiting halves at the barrier, as per-record state updates would, without a
 * RocksDB write, read and delete of every ~3 KB view plus a timer in RocksDB: profiled on the streaming job, those
 * writes stalled the pairing thread in RocksDB's memtable flushes most of the time. Timeouts are found by one
 * processing-time callback at the oldest half's deadline.
 *
 * <p>Skip markers. Every seq that enters leaves as a pair or as a skip marker ({@link ViewPair#skipMarker}), so that
 * sequence batching never waits for a pair that will not come: when a half was rejected by its augmentation operator
 * ({@link View#rejected}), when the halves do not match, and when a half times out. A half restored from a checkpoint
 * waits a whole timeout from the restore.
 *
 * <p>Dead letters (stage {@code pair-views}): {@code duplicate-view} (a second copy of the waiting half; the waiting
 * half stays), {@code bad-view-index}, {@code mismatched-views} (halves that disagree on id, epoch, label or shape;
 * both are dropped), {@code unpaired-timeout}. Metrics: counters {@code pairs}, {@code unpairedTimeouts}, {@code skipMarkers},
 * {@code deadLetters} (all dead letters, timeouts included).
 */
public class PairViewsOperator extends AbstractStreamOperator<ViewPair>
        implements OneInputStreamOperator<View, ViewPair>, ProcessingTimeCallback {

    private static final long serialVersionUID = 2L;

    /** The stage (and operator uid) of the pairing operator. */
    public static final String STAGE = "pair-views";

    private static final long NONE = Long.MAX_VALUE;

    private final long timeoutMillis;

    /** Waiting halves by seq, in arrival order, which is deadline order (the timeout is the same for all). */
    private transient LinkedHashMap<Long, Waiting> waiting;
    /** Seqs whose half is in keyed state (written at an earlier checkpoint or restored). */
    private transient Set<Long> inState;
    private transient ValueState<View> pendingState;
    private transient ValueState<Long> deadlineState;
    private transient long timerAt;
    private transient boolean copyInput;
    private transient Counter pairs;
    private transient Counter unpairedTimeouts;
    private transient Counter skipMarkers;
    private transient Counter deadLetters;

    private record Waiting(View half, long deadline) {}

    /** @param timeout how long (processing time) a half waits for its partner; positive */
    public PairViewsOperator(Duration timeout) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("pair-views.timeout: " + timeout + " is not allowed; allowed: > 0");
        }
        this.timeoutMillis = timeout.toMillis();
    }

    @Override
    public void open() throws Exception {
        super.open();
        pendingState = getRuntimeContext().getState(
                new ValueStateDescriptor<>("pending-view", TypeInformation.of(View.class)));
        deadlineState = getRuntimeContext().getState(new ValueStateDescriptor<>("pending-deadline", Types.LONG));
        var metrics = getRuntimeContext().getMetricGroup();
        pairs = metrics.counter("pairs");
        unpairedTimeouts = metrics.counter("unpairedTimeouts");
        skipMarkers = metrics.counter("skipMarkers");
        deadLetters = metrics.counter(DeadLetters.METRIC);
        // halves are kept beyond processElement: with object reuse the runtime may refill the instance it handed over
        copyInput = getExecutionConfig().isObjectReuseEnabled();
        waiting = new LinkedHashMap<>();
        inState = new HashSet<>();
        timerAt = NONE;
        restore();
    }

    /** Reads the halves this subtask restored back onto the heap, oldest deadline first, and arms the timeout. */
    private void restore() throws Exception {
        List<Long> keys = new ArrayList<>();
        try (var stream = getKeyedStateBackend().getKeys("pending-view", VoidNamespace.INSTANCE)) {
            stream.forEach(k -> keys.add((Long) k));
        }
        List<Waiting> restored = new ArrayList<>();
        // A restored half waits a whole timeout from now, not until the deadline saved before the failure: after a
        // long downtime its partner may still be on its way (in unaligned checkpoints' channel state, or replayed).
        long due = getProcessingTimeService().getCurrentProcessingTime() + timeoutMillis;
        for (Long seq : keys) {
            setCurrentKey(seq);
            View half = pendingState.value();
            Long saved = deadlineState.value();
            if (half != null) {
                restored.add(new Waiting(half, saved == null ? Long.MAX_VALUE : saved));
                inState.add(seq);
            }
        }
        // the saved deadlines still give the arrival order
        restored.sort((a, b) -> Long.compare(a.deadline(), b.deadline()));
        for (int i = 0; i < restored.size(); i++) {
            restored.set(i, new Waiting(restored.get(i).half(), due));
        }
        for (Waiting w : restored) {
            waiting.put(w.half().seq, w);
        }
        armTimer();
    }

    @Override
    public void processElement(StreamRecord<View> element) throws Exception {
        View half = element.getValue();
        if (half.view != 0 && half.view != 1) {
            reject(DeadLetters.BAD_VIEW_INDEX, "view index " + half.view + ", expected 0 or 1", half);
            return;
        }
        Waiting first = waiting.get(half.seq);
        if (first == null) {
            if (copyInput) {
                half = new View(half.id, half.seq, half.epoch, half.view, half.channels, half.height, half.width,
                        half.data, half.label);
            }
            waiting.put(half.seq, new Waiting(half, getProcessingTimeService().getCurrentProcessingTime() + timeoutMillis));
            armTimer();
            return;
        }
        if (first.half().view == half.view) {
            reject(DeadLetters.DUPLICATE_VIEW, "view " + half.view + " arrived twice; the first copy is kept", half);
            return;
        }
        waiting.remove(half.seq);

        View v1 = first.half().view == 0 ? first.half() : half;
        View v2 = first.half().view == 0 ? half : first.half();
        if (v1.rejected != null || v2.rejected != null) {
            // the augmentation operator already dead-lettered the record; the trainer learns that the seq is lost
            skip(v1, v1.rejected != null ? v1.rejected : v2.rejected);
            return;
        }
        String mismatch = mismatch(v1, v2);
        if (mismatch != null) {
            reject(DeadLetters.MISMATCHED_VIEWS, mismatch, v1);
            skip(v1, DeadLetters.MISMATCHED_VIEWS);
            return;
        }
        pairs.inc();
        output.collect(new StreamRecord<>(
                new ViewPair(v1.id, v1.seq, v1.epoch, v1.channels, v1.height, v1.width, v1.data, v2.data, v1.label)));
    }

    /** Drops every half whose deadline has passed, then waits for the next oldest one. */
    @Override
    public void onProcessingTime(long time) {
        timerAt = NONE;
        Iterator<Waiting> it = waiting.values().iterator();
        while (it.hasNext()) {
            Waiting w = it.next();
            if (w.deadline() > time) {
                break;
            }
            it.remove();
            unpairedTimeouts.inc();
            if (w.half().rejected == null) {
                reject(DeadLetters.UNPAIRED_TIMEOUT, "view " + w.half().view + " waited " + timeoutMillis
                        + " ms for view " + (1 - w.half().view), w.half());
            }
            skip(w.half(), DeadLetters.UNPAIRED_TIMEOUT);
        }
        armTimer();
    }

    /** Makes sure a callback comes at the oldest waiting half's deadline. */
    private void armTimer() {
        if (waiting.isEmpty()) {
            return;
        }
        long due = waiting.values().iterator().next().deadline();
        if (due < timerAt) {
            timerAt = due;
            getProcessingTimeService().registerTimer(due, this);
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        Iterator<Long> stored = inState.iterator();
        while (stored.hasNext()) {
            Long seq = stored.next();
            if (!waiting.containsKey(seq)) {
                setCurrentKey(seq);
                pendingState.clear();
                deadlineState.clear();
                stored.remove();
            }
        }
        for (Map.Entry<Long, Waiting> entry : waiting.entrySet()) {
            if (inState.add(entry.getKey())) {
                setCurrentKey(entry.getKey());
                pendingState.update(entry.getValue().half());
                deadlineState.update(entry.getValue().deadline());
            }
        }
    }

    /** Halves waiting for their partner (tests). */
    int waitingHalves() {
        return waiting.size();
    }

    private static String mismatch(View v1, View v2) {
        int n1 = v1.data == null ? -1 : v1.data.length;
        int n2 = v2.data == null ? -1 : v2.data.length;
        if (v1.id != v2.id || v1.epoch != v2.epoch || v1.label != v2.label || v1.channels != v2.channels
                || v1.height != v2.height || v1.width != v2.width || n1 != n2
                || n1 != (long) v1.channels * v1.height * v1.width) {
            return "view 0 (id " + v1.id + ", epoch " + v1.epoch + ", label " + v1.label + ", " + v1.channels + "x"
                    + v1.height + "x" + v1.width + ", " + n1 + " values) and view 1 (id " + v2.id + ", epoch "
                    + v2.epoch + ", label " + v2.label + ", " + v2.channels + "x" + v2.height + "x" + v2.width + ", "
                    + n2 + " values) do not belong together";
        }
        return null;
    }

    /** Tells the trainer that {@code v}'s seq has no pair, so that its batch closes without it. */
    private void skip(View v, String reason) {
        skipMarkers.inc();
        output.collect(new StreamRecord<>(ViewPair.skipMarker(v.id, v.seq, v.epoch, reason)));
    }

    private void reject(String reason, String detail, View v) {
        deadLetters.inc();
        output.collect(DeadLetters.TAG, new StreamRecord<>(new DeadLetter(STAGE, reason, detail, v.id, v.seq)));
    }
}
