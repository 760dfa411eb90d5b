package io.siamstream.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The one sequence-batching rule, shared by the streaming job's training operator and the reference loop
 * ({@link ReplayTrainer}): batch b is the sequence numbers [b x B, (b + 1) x B), and it closes once every one of them
 * is resolved, either by a pair or by a skip marker (a record dead-lettered by a view, timed out in pairing, or
 * rejected by the trainer). A closed batch holds its pairs in seq order, so what it trains on does not depend on
 * arrival order. Batches close strictly in order.
 *
 * <p>A seq that is never resolved (a record lost upstream without a skip marker) would hold every later batch back for
 * ever while their pairs pile up. So the waiting pairs are bounded: once more than {@code maxWaitingPairs} wait, the
 * oldest open batch closes with what it has ({@link Batch#forced}), and whatever arrives for it later is
 * {@link Offer#LATE}. The bound is a memory bound, not a reordering window: pairs legitimately arrive far out of order
 * (the replay source's splits are read by separate subtasks that drift apart), and a forced close gives up the
 * order-independence of that batch, so it must sit well above the normal drift.
 *
 * <p>Not thread-safe. Holds no native memory. The caller checkpoints {@link #waiting()} and the position, which the
 * learner keeps as its step and skipped-step counters: every closed batch is one step, applied or skipped.
 *
 * @param <P> the pair type
 */
public final class SequenceBatcher<P> {

    /** What became of an offered pair or skip. */
    public enum Offer {
        /** Kept (or, for a skip, counted) in its batch. */
        ACCEPTED,
        /** Its batch has closed already. */
        LATE,
        /** Its seq was resolved before, by a pair or a skip. */
        DUPLICATE
    }

    /**
     * A closed batch.
     *
     * @param index the batch number b
     * @param pairs its pairs in seq order (fewer than B when seqs were skipped or the batch was forced)
     * @param skipped seqs of the batch resolved by skip markers
     * @param forced true when the open-batch bound closed it before every seq was resolved
     */
    public record Batch<P>(long index, List<P> pairs, int skipped, boolean forced) {}

    /** One entry of the waiting state: a pair, or a skip (pair null). */
    public record Waiting<P>(long seq, P pair) {}

    private static final class Open<P> {
        final TreeMap<Long, P> pairs = new TreeMap<>();
        final TreeMap<Long, Boolean> skips = new TreeMap<>();

        int resolved() {
            return pairs.size() + skips.size();
        }

        boolean has(long seq) {
            return pairs.containsKey(seq) || skips.containsKey(seq);
        }
    }

    private final int batchSize;
    private final int maxWaitingPairs;
    private final TreeMap<Long, Open<P>> open = new TreeMap<>();
    private long next;
    private int waitingPairs;

    /**
     * @param batchSize B, at least 1
     * @param maxWaitingPairs how many pairs may wait before the oldest open batch closes without its missing seqs
     * @param nextBatch the first batch still to close (a restored learner's steps + skipped steps)
     */
    public SequenceBatcher(int batchSize, int maxWaitingPairs, long nextBatch) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("train.batch-size: " + batchSize + " must be at least 1");
        }
        if (maxWaitingPairs < batchSize) {
            throw new IllegalArgumentException("train.max-pending-pairs: " + maxWaitingPairs
                    + " must be at least the batch size " + batchSize);
        }
        this.batchSize = batchSize;
        this.maxWaitingPairs = maxWaitingPairs;
        this.next = nextBatch;
    }

    /** Adds the pair of {@code seq}; batches that this closes are appended to {@code closed}, oldest first. */
    public Offer offer(long seq, P pair, List<Batch<P>> closed) {
        if (pair == null) {
            throw new IllegalArgumentException("a pair is required; use skip() for a skip marker");
        }
        return resolve(seq, pair, closed);
    }

    /** Marks {@code seq} as resolved without a pair; batches that this closes are appended to {@code closed}. */
    public Offer skip(long seq, List<Batch<P>> closed) {
        return resolve(seq, null, closed);
    }

    private Offer resolve(long seq, P pair, List<Batch<P>> closed) {
        if (seq < 0) {
            throw new IllegalArgumentException("seq " + seq + " is outside every batch");
        }
        long b = seq / batchSize;
        if (b < next) {
            return Offer.LATE;
        }
        Open<P> batch = open.computeIfAbsent(b, k -> new Open<>());
        if (batch.has(seq)) {
            return Offer.DUPLICATE;
        }
        if (pair == null) {
            batch.skips.put(seq, Boolean.TRUE);
        } else {
            batch.pairs.put(seq, pair);
            waitingPairs++;
        }
        closeReady(closed);
        while (waitingPairs > maxWaitingPairs) {
            closed.add(close(true));
            closeReady(closed);
        }
        return Offer.ACCEPTED;
    }

    private void closeReady(List<Batch<P>> closed) {
        Open<P> first;
        while ((first = open.get(next)) != null && first.resolved() == batchSize) {
            closed.add(close(false));
        }
    }

    /**
     * At the end of a bounded input nothing more will come: closes, in order, every open batch that a later open
     * batch waits behind, with what it has. The last open batch stays open: an incomplete tail, unused as before.
     */
    public void closeBlocked(List<Batch<P>> closed) {
        while (open.size() > 1) {
            closed.add(close(true));
            closeReady(closed);
        }
    }

    /** Closes batch {@code next} with what it has (possibly nothing). */
    private Batch<P> close(boolean forced) {
        Open<P> batch = open.remove(next);
        List<P> pairs = batch == null ? List.of() : new ArrayList<>(batch.pairs.values());
        int skipped = batch == null ? 0 : batch.skips.size();
        waitingPairs -= pairs.size();
        return new Batch<>(next++, pairs, skipped, forced);
    }

    /** The first batch still to close. */
    public long nextBatch() {
        return next;
    }

    /** Batches holding at least one resolved seq. */
    public int openBatches() {
        return open.size();
    }

    /** Pairs waiting in open batches. */
    public int waitingPairs() {
        return waitingPairs;
    }

    /** Everything waiting, pairs and skips, in seq order: what a checkpoint holds and a restore offers again. */
    public List<Waiting<P>> waiting() {
        List<Waiting<P>> out = new ArrayList<>();
        for (Open<P> batch : open.values()) {
            TreeMap<Long, P> all = new TreeMap<>(batch.pairs);
            for (Long seq : batch.skips.keySet()) {
                all.put(seq, null);
            }
            for (Map.Entry<Long, P> e : all.entrySet()) {
                out.add(new Waiting<>(e.getKey(), e.getValue()));
            }
        }
        return out;
    }
}
