package io.siamstream.connectors.dataset;

import java.io.Serializable;

/**
 * Input a loader could not turn into images, and why: what becomes a dead letter with stage
 * {@code source}.
 *
 * @param reason one of the dead-letter reasons of {@code io.siamstream.flink.DeadLetters} (e.g. "truncated")
 * @param detail what was wrong and where: the file, the position, the counts
 */
public record Reject(String reason, String detail) implements Serializable {

    public Reject {
        if (reason == null || detail == null) {
            throw new IllegalArgumentException("a reject needs a reason and a detail");
        }
    }

    @Override
    public String toString() {
        return reason + ": " + detail;
    }
}
