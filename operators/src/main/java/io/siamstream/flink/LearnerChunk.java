package io.siamstream.flink;

/**
 * One element of the learner's operator state ({@link OperatorLearnerState}): a replica's index ({@link #INDEX}: the
 * codec's header, tensor names and chunk counts) or one chunk {@code <tensor name>#<k>} of a tensor in the codec's
 * bytes. A POJO so that the State Processor API can carry it in a stream; the state itself is written with
 * {@link LearnerChunkSerializer}.
 */
public final class LearnerChunk {

    public static final String INDEX = "index";

    public int replica;
    public String entry;
    public byte[] bytes;

    public LearnerChunk() {}

    public LearnerChunk(int replica, String entry, byte[] bytes) {
        this.replica = replica;
        this.entry = entry;
        this.bytes = bytes;
    }

    /** The tensor this chunk belongs to; null for the index. */
    public String tensor() {
        int at = entry.lastIndexOf('#');
        return at < 0 ? null : entry.substring(0, at);
    }
}
