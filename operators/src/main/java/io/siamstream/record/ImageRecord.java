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

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageRecord r && id == r.id && seq == r.seq && epoch == r.epoch && channels == r.channels
                && height == r.height && width == r.width && label == r.label && Arrays.equals(pixels, r.pixels);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, seq, epoch, channels, height, width, label) * 31 + Arrays.hashCode(pixels);
    }

    @Override
    public String toString() {
        return "ImageRecord{id=" + id + ", seq=" + seq + ", epoch=" + epoch + ", " + channels + "x" + height + "x"
                + width + ", label=" + label + "}";
    }
}
