package io.siamstream.tests;

import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.state.CheckpointListener;

/**
 * Passes records through, and throws once, after a checkpoint has completed and at least {@code after} records went
 * by in this attempt: a task failure in the middle of training, with something to recover from.
 */
final class FailOnceAfterCheckpoint<T> implements MapFunction<T, T>, CheckpointListener {

    static final AtomicBoolean FAILED = new AtomicBoolean();
    static final AtomicBoolean CHECKPOINTED = new AtomicBoolean();

    private final long after;
    private transient long seen;

    FailOnceAfterCheckpoint(long after) {
        this.after = after;
    }

    static void reset() {
        FAILED.set(false);
        CHECKPOINTED.set(false);
    }

    @Override
    public T map(T value) {
        seen++;
        if (seen > after && CHECKPOINTED.get() && FAILED.compareAndSet(false, true)) {
            throw new IllegalStateException("injected failure after " + seen + " records");
        }
        return value;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        CHECKPOINTED.set(true);
    }
}
