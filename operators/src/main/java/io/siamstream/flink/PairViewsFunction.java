package io.siamstream.flink;

import io.siamstream.record.DeadLetter;
import io.siamstream.record.View;
import io.siamstream.record.ViewPair;
import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Joins the two views of one image occurrence, keyed by {@link View#seq}, into a {@link ViewPair} (view1 = index 0,
 * view2 = index 1), whatever order they arrive in. The first half waits in keyed state with a processing-time timer;
 * when its partner arrives the pair is emitted and the state and the timer are cleared, so state holds only halves
 * that are still waiting. A half whose partner does not come within the timeout is dropped with an
 * {@code unpaired-timeout} dead letter.
 *
 * <p>Dead letters (stage {@code pair-views}): {@code duplicate-view} (a second copy of the waiting half; the waiting
 * half stays), {@code bad-view-index}, {@code mismatched-views} (halves that disagree on id, epoch, label or shape;
 * both are dropped), {@code unpaired-timeout}. Metrics: counters {@code pairs}, {@code unpairedTimeouts},
 * {@code deadLetters} (all dead letters, timeouts included).
 */
public class PairViewsFunction extends KeyedProcessFunction<Long, View, ViewPair> {

    private static final long serialVersionUID = 1L;

    /** The stage (and operator uid) of the pairing operator. */
    public static final String STAGE = "pair-views";

    private final long timeoutMillis;

    private transient ValueState<View> pending;
    private transient ValueState<Long> deadline;
    private transient Counter pairs;
    private transient Counter unpairedTimeouts;
    private transient Counter deadLetters;

    /** @param timeout how long (processing time) a half waits for its partner; positive */
    public PairViewsFunction(Duration timeout) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("pair-views.timeout: " + timeout + " is not allowed; allowed: > 0");
        }
        this.timeoutMillis = timeout.toMillis();
    }

    @Override
    public void open(OpenContext openContext) {
        pending = getRuntimeContext().getState(new ValueStateDescriptor<>("pending-view", TypeInformation.of(View.class)));
        deadline = getRuntimeContext().getState(new ValueStateDescriptor<>("pending-deadline", Types.LONG));
        pairs = getRuntimeContext().getMetricGroup().counter("pairs");
        unpairedTimeouts = getRuntimeContext().getMetricGroup().counter("unpairedTimeouts");
        deadLetters = getRuntimeContext().getMetricGroup().counter(DeadLetters.METRIC);
    }

    @Override
    public void processElement(View half, Context ctx, Collector<ViewPair> out) throws Exception {
        if (half.view != 0 && half.view != 1) {
            reject(ctx, DeadLetters.BAD_VIEW_INDEX, "view index " + half.view + ", expected 0 or 1", half);
            return;
        }
        View first = pending.value();
        if (first == null) {
            long due = ctx.timerService().currentProcessingTime() + timeoutMillis;
            pending.update(half);
            deadline.update(due);
            ctx.timerService().registerProcessingTimeTimer(due);
            return;
        }
        if (first.view == half.view) {
            reject(ctx, DeadLetters.DUPLICATE_VIEW, "view " + half.view + " arrived twice; the first copy is kept", half);
            return;
        }
        Long due = deadline.value();
        if (due != null) {
            ctx.timerService().deleteProcessingTimeTimer(due);
        }
        pending.clear();
        deadline.clear();

        View v1 = first.view == 0 ? first : half;
        View v2 = first.view == 0 ? half : first;
        String mismatch = mismatch(v1, v2);
        if (mismatch != null) {
            reject(ctx, DeadLetters.MISMATCHED_VIEWS, mismatch, v1);
            return;
        }
        pairs.inc();
        out.collect(new ViewPair(v1.id, v1.seq, v1.epoch, v1.channels, v1.height, v1.width, v1.data, v2.data, v1.label));
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ViewPair> out) throws Exception {
        View lonely = pending.value();
        Long due = deadline.value();
        if (lonely == null || due == null || due != timestamp) {
            return; // a timer of a half that has been paired already
        }
        pending.clear();
        deadline.clear();
        unpairedTimeouts.inc();
        reject(ctx, DeadLetters.UNPAIRED_TIMEOUT,
                "view " + lonely.view + " waited " + timeoutMillis + " ms for view " + (1 - lonely.view), lonely);
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

    private void reject(Context ctx, String reason, String detail, View v) {
        deadLetters.inc();
        ctx.output(DeadLetters.TAG, new DeadLetter(STAGE, reason, detail, v.id, v.seq));
    }
}
