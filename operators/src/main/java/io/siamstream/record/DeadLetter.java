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
        return "{\"stage\":" + quote(stage) + ",\"reason\":" + quote(reason) + ",\"detail\":" + quote(detail)
                + ",\"id\":" + id + ",\"seq\":" + seq + "}";
    }

    /** A JSON string literal of {@code s} ("null" for null): shared by the records' JSON toString. */
    static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> b.append(c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
            }
        }
        return b.append('"').toString();
    }
}
