package io.siamstream.record;

/**
 * A record that could not be processed, with where and why: what the dead-letter side outputs carry. A Flink POJO.
 *
 * @see #stage the operator that rejected it (e.g. "augment-view1", "pair-views", "source-kafka")
 * @see #reason a short machine-readable cause (e.g. "wrong-size", "nan-pixels", "undecodable")
 * @see #detail a human-readable explanation
 */
public class DeadLetter {

    public String stage;
    public String reason;
    public String detail;
    public long id;
    public long seq;

    public DeadLetter() {}

    public DeadLetter(String stage, String reason, String detail, long id, long seq) {
        this.stage = stage;
        this.reason = reason;
        this.detail = detail;
        this.id = id;
        this.seq = seq;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeadLetter d && id == d.id && seq == d.seq && java.util.Objects.equals(stage, d.stage)
                && java.util.Objects.equals(reason, d.reason) && java.util.Objects.equals(detail, d.detail);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(stage, reason, detail, id, seq);
    }

    @Override
    public String toString() {
        return "DeadLetter{" + stage + ": " + reason + " (" + detail + "), id=" + id + ", seq=" + seq + "}";
    }
}
