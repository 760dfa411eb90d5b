package io.siamstream.record;

import java.util.Arrays;
import java.util.Objects;

/**
 * One image on the stream, as sources emit it. A Flink POJO (public fields, no-arg constructor), so it is serialised
 * without Kryo.
 *
 * <p>{@code id} names the image (stable across epochs: the seed of its views); {@code seq} numbers its occurrence
 * on the stream (unique across epochs: dataset replay numbers epoch e, position i as e x size + i), which sequence
 * batching and view pairing key on. Pixels are 8-bit, channel-major (C x H x W).
 *
 * <p>A source that finds bad input it cannot turn into an image (a truncated file, a wrong header, an undecodable
 * image file) emits it once as a record with a non-null {@code error} (a dead-letter reason, see the reasons in
 * {@code io.siamstream.flink.DeadLetters}) and an {@code errorDetail} saying what and where; such a record has no
 * pixels, a negative id and seq (outside any batch), and goes straight to the dead letter.
 */
public class ImageRecord {

    public static final int NO_LABEL = -1;

    public long id;
    public long seq;
    public long epoch;
    public int channels;
    public int height;
    public int width;
    public byte[] pixels;
    public int label = NO_LABEL;
    /** Null for an image; for input the source rejected, the dead-letter reason. */
    public String error;
    /** For input the source rejected: what was wrong, and where (file, position). */
    public String errorDetail;

    public ImageRecord() {}

    public ImageRecord(long id, long seq, long epoch, int channels, int height, int width, byte[] pixels, int label) {
        this.id = id;
        this.seq = seq;
        this.epoch = epoch;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.pixels = pixels;
        this.label = label;
    }

    /** The record of input the source rejected: no pixels, only the reason and what was wrong. */
    public static ImageRecord rejected(long id, long seq, String error, String errorDetail) {
        if (error == null) {
            throw new IllegalArgumentException("a rejected record needs a reason");
        }
        ImageRecord r = new ImageRecord();
        r.id = id;
        r.seq = seq;
        r.error = error;
        r.errorDetail = errorDetail;
        return r;
    }

    /** True for input the source rejected (see {@link #error}). */
    public boolean hasError() {
        return error != null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageRecord r && id == r.id && seq == r.seq && epoch == r.epoch && channels == r.channels
                && height == r.height && width == r.width && label == r.label && Arrays.equals(pixels, r.pixels)
                && Objects.equals(error, r.error) && Objects.equals(errorDetail, r.errorDetail);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, seq, epoch, channels, height, width, label, error, errorDetail) * 31
                + Arrays.hashCode(pixels);
    }

    @Override
    public String toString() {
        if (error != null) {
            return "ImageRecord{id=" + id + ", seq=" + seq + ", error=" + error + ", " + errorDetail + "}";
        }
        return "ImageRecord{id=" + id + ", seq=" + seq + ", epoch=" + epoch + ", " + channels + "x" + height + "x"
                + width + ", label=" + label + "}";
    }
}
