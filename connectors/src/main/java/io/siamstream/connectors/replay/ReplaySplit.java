package io.siamstream.connectors.replay;

import org.apache.flink.api.connector.source.SourceSplit;

/**
 * Split {@code index} of {@code count}: the occurrences whose sequence number is congruent to {@code index} modulo
 * {@code count}, from {@code nextSeq} on. Split 0 also carries the dataset's rejects (bad input found while loading),
 * each emitted once before its first image: {@code nextReject} is the first not yet emitted. Its state is just these
 * positions, so a restored reader resumes at the first record not yet checkpointed, rejects included.
 */
public record ReplaySplit(int index, int count, long nextSeq, int nextReject) implements SourceSplit {

    public ReplaySplit(int index, int count, long nextSeq) {
        this(index, count, nextSeq, 0);
    }

    @Override
    public String splitId() {
        return index + "/" + count;
    }

    public ReplaySplit at(long seq) {
        return new ReplaySplit(index, count, seq, nextReject);
    }

    /** The split after emitting reject {@code nextReject}. */
    public ReplaySplit afterReject() {
        return new ReplaySplit(index, count, nextSeq, nextReject + 1);
    }

    /** True for the split that emits the rejects. */
    public boolean carriesRejects() {
        return index == 0;
    }
}
