package io.siamstream.flink;

import io.siamstream.augment.Image;
import io.siamstream.augment.ViewPolicy;
import io.siamstream.augment.Views;
import io.siamstream.record.DeadLetter;
import io.siamstream.record.ImageRecord;
import io.siamstream.record.View;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Makes view {@code viewIndex} (0 or 1) of every image with one {@link ViewPolicy}, seeded by (run seed, record id,
 * epoch, view) through {@link Views#make}: the same record always gives the same view. Records that are not
 * images of the expected shape go to {@link DeadLetters#TAG} with stage {@code augment-view<viewIndex + 1>}.
 * Input the source already rejected (a record with {@link ImageRecord#error} set: a truncated file, an undecodable
 * image, ...) goes to the dead letter with stage {@link DeadLetters#SOURCE_STAGE} and the source's reason and detail,
 * once: view 1 (index 0) routes and counts it, view 2 drops it, as both operators see every record. For every
 * rejected record with a seq in a batch, each operator also emits a rejected half ({@link View#rejected}), which
 * pairing turns into a skip marker: a lost record never stalls sequence batching.
 *
 * <p>Metrics: counters {@code views} (views emitted) and {@code deadLetters} (records rejected).
 */
public class AugmentViewFunction extends ProcessFunction<ImageRecord, View> {

    private static final long serialVersionUID = 1L;

    private final ViewPolicy policy;
    private final int viewIndex;
    private final long runSeed;
    private final int channels;
    private final int height;
    private final int width;
    private final String stage;

    private transient Counter views;
    private transient Counter deadLetters;

    /**
     * @param policy    how the view is made; its mean/std length must equal {@code channels}
     * @param viewIndex 0 for the first view, 1 for the second
     * @param runSeed   the run's seed (the same for both views)
     * @param channels  expected channels of every record (1 or 3)
     * @param height    expected height of every record
     * @param width     expected width of every record
     */
    public AugmentViewFunction(ViewPolicy policy, int viewIndex, long runSeed, int channels, int height, int width) {
        if (policy == null) {
            throw new IllegalArgumentException("augment: a view policy is required");
        }
        if (viewIndex != 0 && viewIndex != 1) {
            throw new IllegalArgumentException("augment: view index " + viewIndex + " is not allowed; allowed: 0, 1");
        }
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("augment: expected channels " + channels + " is not allowed; allowed: 1, 3");
        }
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("augment: expected image size " + height + "x" + width + " is not positive");
        }
        if (policy.mean().length != channels) {
            throw new IllegalArgumentException("augment." + policy.name() + ": policy is for " + policy.mean().length
                    + "-channel images, but the stream is expected to carry " + channels + "-channel images");
        }
        this.policy = policy;
        this.viewIndex = viewIndex;
        this.runSeed = runSeed;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.stage = stageName(viewIndex);
    }

    /** The stage (and operator uid) of view {@code viewIndex}: "augment-view1" or "augment-view2". */
    public static String stageName(int viewIndex) {
        return "augment-view" + (viewIndex + 1);
    }

    @Override
    public void open(OpenContext openContext) {
        views = getRuntimeContext().getMetricGroup().counter("views");
        deadLetters = getRuntimeContext().getMetricGroup().counter(DeadLetters.METRIC);
    }

    @Override
    public void processElement(ImageRecord record, Context ctx, Collector<View> out) {
        if (record.error != null) {
            if (viewIndex == 0) {
                reject(ctx, DeadLetters.sourceRejected(record));
            }
            rejectedHalf(record, DeadLetters.SOURCE_STAGE + ": " + record.error, out);
            return;
        }
        DeadLetter problem = check(record);
        if (problem != null) {
            reject(ctx, problem);
            rejectedHalf(record, problem.reason, out);
            return;
        }
        float[] data;
        try {
            Image image = Image.fromUnsignedBytes(record.pixels, record.channels, record.height, record.width);
            data = Views.make(policy, image, runSeed, record.id, record.epoch, viewIndex);
        } catch (IllegalArgumentException e) {
            reject(ctx, record, DeadLetters.UNDECODABLE, String.valueOf(e.getMessage()));
            rejectedHalf(record, DeadLetters.UNDECODABLE, out);
            return;
        }
        for (float v : data) {
            if (!Float.isFinite(v)) {
                reject(ctx, record, DeadLetters.NAN_PIXELS,
                        "policy " + policy.name() + " made a view with non-finite values (" + v + ")");
                rejectedHalf(record, DeadLetters.NAN_PIXELS, out);
                return;
            }
        }
        views.inc();
        out.collect(new View(record.id, record.seq, record.epoch, viewIndex, record.channels,
                policy.outputSize(), policy.outputSize(), data, record.label));
    }

    /**
     * Sends the half of a rejected record on without data, so that pairing resolves its seq as a skip marker and
     * sequence batching closes the batch without it instead of waiting for it for ever. A record outside every batch
     * (negative seq: the source's own rejects) needs none.
     */
    private void rejectedHalf(ImageRecord record, String reason, Collector<View> out) {
        if (record.seq >= 0) {
            out.collect(View.rejected(record.id, record.seq, record.epoch, viewIndex, stage + ": " + reason));
        }
    }

    /** The dead letter for a record that cannot be augmented, null when it can. */
    private DeadLetter check(ImageRecord r) {
        DeadLetter malformed = DeadLetters.malformed(stage, r);
        if (malformed != null) {
            return malformed;
        }
        if (r.channels != policy.mean().length) {
            return new DeadLetter(stage, DeadLetters.WRONG_CHANNELS, r.channels + " channels, policy "
                    + policy.name() + " is for " + policy.mean().length, r.id, r.seq);
        }
        if (r.channels != channels || r.height != height || r.width != width) {
            return new DeadLetter(stage, DeadLetters.WRONG_SHAPE, r.channels + "x" + r.height + "x" + r.width
                    + ", expected " + channels + "x" + height + "x" + width, r.id, r.seq);
        }
        return null;
    }

    private void reject(Context ctx, ImageRecord r, String reason, String detail) {
        reject(ctx, new DeadLetter(stage, reason, detail, r.id, r.seq));
    }

    private void reject(Context ctx, DeadLetter letter) {
        deadLetters.inc();
        ctx.output(DeadLetters.TAG, letter);
    }
}
