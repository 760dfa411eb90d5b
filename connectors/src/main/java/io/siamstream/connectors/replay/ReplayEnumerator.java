package io.siamstream.connectors.replay;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.annotation.Nullable;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;

/**
 * Hands the fixed set of replay splits to the readers: split i to reader (i mod parallelism) when it registers, and
 * returned splits (a failed reader's) to whichever reader registers for them next. Once a reader holds its splits it
 * is told there are no more.
 */
final class ReplayEnumerator implements SplitEnumerator<ReplaySplit, List<ReplaySplit>> {

    private final SplitEnumeratorContext<ReplaySplit> context;
    private final List<ReplaySplit> pending;

    ReplayEnumerator(SplitEnumeratorContext<ReplaySplit> context, List<ReplaySplit> pending) {
        this.context = context;
        this.pending = new ArrayList<>(pending);
    }

    @Override
    public void start() {}

    @Override
    public void handleSplitRequest(int subtaskId, @Nullable String requesterHostname) {}

    @Override
    public void addSplitsBack(List<ReplaySplit> splits, int subtaskId) {
        pending.addAll(splits);
        if (context.registeredReaders().containsKey(subtaskId)) {
            assign(subtaskId);
        }
    }

    @Override
    public void addReader(int subtaskId) {
        assign(subtaskId);
    }

    private void assign(int subtaskId) {
        int parallelism = context.currentParallelism();
        Iterator<ReplaySplit> it = pending.iterator();
        while (it.hasNext()) {
            ReplaySplit split = it.next();
            if (split.index() % parallelism == subtaskId) {
                context.assignSplit(split, subtaskId);
                it.remove();
            }
        }
        boolean moreForThisReader = pending.stream().anyMatch(s -> s.index() % parallelism == subtaskId);
        if (!moreForThisReader) {
            context.signalNoMoreSplits(subtaskId);
        }
    }

    @Override
    public List<ReplaySplit> snapshotState(long checkpointId) {
        return new ArrayList<>(pending);
    }

    @Override
    public void close() {}
}
