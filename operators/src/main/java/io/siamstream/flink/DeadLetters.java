package io.siamstream.flink;

import io.siamstream.record.DeadLetter;
import io.siamstream.record.ImageRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;

/** The side output every siamstream operator sends rejected records to, and the reasons it uses. */
public final class DeadLetters {

    /**
     * The stage of dead letters for input a source rejected (see {@code ImageRecord#error}); they are routed to the
     * side output by augment-view1 (once: augment-view2 drops them).
     */
    public static final String SOURCE_STAGE = "source";

    /** The dead-letter side output (POJO-typed: no Kryo). */
    public static final OutputTag<DeadLetter> TAG =
            new OutputTag<>("dead-letters", TypeInformation.of(DeadLetter.class));

    /** Name of the counter of dead letters on every operator that emits them. */
    public static final String METRIC = "deadLetters";

    /** The record has no pixel bytes. */
    public static final String NO_PIXELS = "no-pixels";
    /** The pixel count does not match the record's own channels x height x width (or the shape is not positive). */
    public static final String WRONG_SIZE = "wrong-size";
    /** The record's channel count is not the one the view policy is for. */
    public static final String WRONG_CHANNELS = "wrong-channels";
    /** The record's shape is not the expected one. */
    public static final String WRONG_SHAPE = "wrong-shape";
    /** The pixels could not be turned into an image or a view. */
    public static final String UNDECODABLE = "undecodable";
    /** The view has NaN or infinite values. */
    public static final String NAN_PIXELS = "nan-pixels";
    /** Source: a file ends early (the complete images before the cut are kept). */
    public static final String TRUNCATED = "truncated";
    /** Source: a file does not start with the magic number of its format. */
    public static final String BAD_MAGIC = "bad-magic";
    /** Source: a file's header is unreadable or its dimensions are implausible. */
    public static final String BAD_HEADER = "bad-header";
    /** Source: a label file does not fit its image file (count or format); the images are kept without labels. */
    public static final String LABEL_MISMATCH = "label-mismatch";
    /** Source: a label outside the dataset's classes. */
    public static final String UNKNOWN_LABEL = "unknown-label";
    /** Source: a file could not be read at all (an I/O error other than its format). */
    public static final String UNREADABLE = "unreadable";
    /** A second copy of a half that is already waiting for its partner. */
    public static final String DUPLICATE_VIEW = "duplicate-view";
    /** A view index other than 0 or 1. */
    public static final String BAD_VIEW_INDEX = "bad-view-index";
    /** The two halves of a seq disagree on id, epoch, label or shape. */
    public static final String MISMATCHED_VIEWS = "mismatched-views";
    /** A half whose partner did not arrive within the pairing timeout. */
    public static final String UNPAIRED_TIMEOUT = "unpaired-timeout";
    /** A pair whose sequence number arrived twice (or after its skip marker). */
    public static final String DUPLICATE_PAIR = "duplicate-pair";
    /** A pair whose batch has closed already: trained, or closed without it past the trainer's open-batch bound. */
    public static final String LATE_PAIR = "late-pair";

    private DeadLetters() {}

    /** The dead letter of input the source rejected ({@link ImageRecord#hasError()}), with its reason and detail. */
    public static DeadLetter sourceRejected(ImageRecord r) {
        return new DeadLetter(SOURCE_STAGE, r.error, r.errorDetail == null ? r.error : r.errorDetail, r.id, r.seq);
    }

    /**
     * The dead letter at {@code stage} of a record whose pixels do not make the image it declares (none, or not
     * channels x height x width bytes), or null when they do.
     */
    public static DeadLetter malformed(String stage, ImageRecord r) {
        if (r.pixels == null || r.pixels.length == 0) {
            return new DeadLetter(stage, NO_PIXELS, "the record carries no pixels", r.id, r.seq);
        }
        long declared = (long) r.channels * r.height * r.width;
        if (r.channels < 1 || r.height < 1 || r.width < 1 || declared != r.pixels.length) {
            return new DeadLetter(stage, WRONG_SIZE, r.pixels.length + " pixel bytes are not a "
                    + r.channels + "x" + r.height + "x" + r.width + " image", r.id, r.seq);
        }
        return null;
    }
}
