package io.siamstream.flink;

import io.siamstream.record.DeadLetter;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;

/** The side output every siamstream operator sends rejected records to, and the reasons it uses. */
public final class DeadLetters {

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
    /** A second copy of a half that is already waiting for its partner. */
    public static final String DUPLICATE_VIEW = "duplicate-view";
    /** A view index other than 0 or 1. */
    public static final String BAD_VIEW_INDEX = "bad-view-index";
    /** The two halves of a seq disagree on id, epoch, label or shape. */
    public static final String MISMATCHED_VIEWS = "mismatched-views";
    /** A half whose partner did not arrive within the pairing timeout. */
    public static final String UNPAIRED_TIMEOUT = "unpaired-timeout";
    /** A pair whose sequence number belongs to a batch that was already trained, or that arrived twice. */
    public static final String DUPLICATE_PAIR = "duplicate-pair";

    private DeadLetters() {}
}
