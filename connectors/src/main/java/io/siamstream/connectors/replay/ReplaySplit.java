package io.siamstream.connectors.replay;

import org.apache.flink.api.connector.source.SourceSplit;

/**
 * Split {@code index} of {@code count}: the occurrences whose sequence number is congruent to {@code index} modulo
 * {@code count}, from {@code nextSeq} on. Its state is just that position, so a restored reader resumes at the
 * first record not yet checkpointed.
 */
public record ReplaySplit(int index, int count, long nextSeq) implements SourceSplit {

    @Override
    public String splitId() {
        return index + "/" + count;
    }

    public ReplaySplit at(long seq) {
        return new ReplaySplit(index, count, seq);
    }
}
