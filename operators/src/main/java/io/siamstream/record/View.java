package io.siamstream.record;

import java.util.Arrays;
import java.util.Objects;

/** One augmented view (index 0 or 1) of an image occurrence: normalised floats, C x H x W. A Flink POJO. */
public class View {

    public long id;
    public long seq;
    public long epoch;
    public int view;
    public int channels;
    public int height;
    public int width;
    public float[] data;
    public int label = ImageRecord.NO_LABEL;
    /**
     * Null for a view. Otherwise this is a rejected half: the augmentation operator dead-lettered the record for this
     * reason and sends the half on without data, so that pairing still resolves the seq (as a skip marker).
     */
    public String rejected;

    public View() {}

    /** The half of a record that view {@code view}'s operator rejected (and dead-lettered) for {@code reason}. */
    public static View rejected(long id, long seq, long epoch, int view, String reason) {
        View v = new View(id, seq, epoch, view, 0, 0, 0, null, ImageRecord.NO_LABEL);
        v.rejected = reason;
        return v;
    }

    public View(long id, long seq, long epoch, int view, int channels, int height, int width, float[] data, int label) {
        this.id = id;
        this.seq = seq;
        this.epoch = epoch;
        this.view = view;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.data = data;
        this.label = label;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof View v && id == v.id && seq == v.seq && epoch == v.epoch && view == v.view
                && channels == v.channels && height == v.height && width == v.width && label == v.label
                && Objects.equals(rejected, v.rejected) && Arrays.equals(data, v.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, seq, epoch, view, channels, height, width, label) * 31 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "View{id=" + id + ", seq=" + seq + ", view=" + view + ", " + channels + "x" + height + "x" + width
                + (rejected == null ? "" : ", rejected " + rejected) + "}";
    }
}
