package io.siamstream.record;

import java.util.Arrays;
import java.util.Objects;

/** The two views of one image occurrence, joined by the pairing operator: what the trainer consumes. A Flink POJO. */
public class ViewPair {

    public long id;
    public long seq;
    public long epoch;
    public int channels;
    public int height;
    public int width;
    public float[] view1;
    public float[] view2;
    public int label = ImageRecord.NO_LABEL;
    /**
     * Null for a pair. Otherwise this is a skip marker: seq {@link #seq} lost its pair upstream for this reason (a view
     * rejected it, pairing timed out, the halves did not match), and the trainer closes its batch without it.
     */
    public String skip;

    public ViewPair() {}

    /** The skip marker of {@code seq}: no views, the reason it has none. */
    public static ViewPair skipMarker(long id, long seq, long epoch, String reason) {
        ViewPair p = new ViewPair(id, seq, epoch, 0, 0, 0, null, null, ImageRecord.NO_LABEL);
        p.skip = reason;
        return p;
    }

    public boolean isSkipMarker() {
        return skip != null;
    }

    public ViewPair(long id, long seq, long epoch, int channels, int height, int width,
                    float[] view1, float[] view2, int label) {
        this.id = id;
        this.seq = seq;
        this.epoch = epoch;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.view1 = view1;
        this.view2 = view2;
        this.label = label;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ViewPair p && id == p.id && seq == p.seq && epoch == p.epoch && channels == p.channels
                && height == p.height && width == p.width && label == p.label
                && Objects.equals(skip, p.skip) && Arrays.equals(view1, p.view1) && Arrays.equals(view2, p.view2);
    }

    @Override
    public int hashCode() {
        return (Objects.hash(id, seq, epoch, channels, height, width, label) * 31 + Arrays.hashCode(view1)) * 31
                + Arrays.hashCode(view2);
    }

    @Override
    public String toString() {
        return "ViewPair{id=" + id + ", seq=" + seq + ", " + (skip == null ? channels + "x" + height + "x" + width
                : "skip: " + skip) + "}";
    }
}
