package io.siamstream.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.train.SequenceBatcher.Batch;
import io.siamstream.train.SequenceBatcher.Offer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one sequence-batching rule: in order, whatever the arrival order; skips close batches; nothing stalls. */
class SequenceBatcherTest {

    private static List<Batch<String>> offer(SequenceBatcher<String> b, long... seqs) {
        List<Batch<String>> closed = new ArrayList<>();
        for (long seq : seqs) {
            assertThat(b.offer(seq, "p" + seq, closed)).isEqualTo(Offer.ACCEPTED);
        }
        return closed;
    }

    @Test
    void batchesCloseInSeqOrderWhateverTheArrivalOrder() {
        SequenceBatcher<String> b = new SequenceBatcher<>(3, 8, 0);
        assertThat(offer(b, 5, 3, 4)).as("batch 1 waits for batch 0").isEmpty();
        assertThat(b.openBatches()).isEqualTo(1);
        List<Batch<String>> closed = offer(b, 2, 0, 1);
        assertThat(closed).extracting(Batch::index).containsExactly(0L, 1L);
        assertThat(closed.get(0).pairs()).containsExactly("p0", "p1", "p2");
        assertThat(closed.get(1).pairs()).containsExactly("p3", "p4", "p5");
        assertThat(closed).allSatisfy(c -> assertThat(c.forced()).isFalse());
        assertThat(b.nextBatch()).isEqualTo(2);
        assertThat(b.waitingPairs()).isZero();
    }

    @Test
    void aSkippedSeqClosesItsBatchWithTheRest() {
        SequenceBatcher<String> b = new SequenceBatcher<>(4, 8, 0);
        List<Batch<String>> closed = offer(b, 0, 3, 1);
        assertThat(b.skip(2, closed)).isEqualTo(Offer.ACCEPTED);
        assertThat(closed).singleElement().satisfies(c -> {
            assertThat(c.pairs()).containsExactly("p0", "p1", "p3");
            assertThat(c.skipped()).isEqualTo(1);
            assertThat(c.forced()).isFalse();
        });
        // a batch whose every seq was skipped closes empty: the caller consumes it without an update
        closed.clear();
        for (long seq = 4; seq < 8; seq++) {
            b.skip(seq, closed);
        }
        assertThat(closed).singleElement().satisfies(c -> assertThat(c.pairs()).isEmpty());
    }

    @Test
    void lateAndDuplicateSeqsAreRefused() {
        SequenceBatcher<String> b = new SequenceBatcher<>(2, 8, 0);
        List<Batch<String>> closed = offer(b, 0, 1, 2);
        assertThat(b.offer(1, "again", closed)).isEqualTo(Offer.LATE);
        assertThat(b.offer(2, "again", closed)).isEqualTo(Offer.DUPLICATE);
        assertThat(b.skip(2, closed)).isEqualTo(Offer.DUPLICATE);
        b.skip(3, closed);
        assertThat(b.offer(3, "after its skip", closed)).isEqualTo(Offer.LATE);
        assertThat(closed).extracting(c -> c.pairs().size()).containsExactly(2, 1);
        assertThatThrownBy(() -> b.skip(-1, closed)).hasMessageContaining("outside every batch");
    }

    @Test
    void aSeqThatNeverComesCannotHoldTrainingBackPastTheBound() {
        SequenceBatcher<String> b = new SequenceBatcher<>(2, 4, 0);
        // seq 1 never comes: batches 1 and 2 fill up behind batch 0
        assertThat(offer(b, 0, 2, 3, 4)).isEmpty();
        List<Batch<String>> closed = offer(b, 5);
        assertThat(closed).extracting(Batch::index).containsExactly(0L, 1L, 2L);
        assertThat(closed.get(0).forced()).isTrue();
        assertThat(closed.get(0).pairs()).containsExactly("p0");
        assertThat(closed.get(1).forced()).isFalse();
        assertThat(b.offer(1, "straggler", closed)).isEqualTo(Offer.LATE);
        assertThat(b.openBatches()).isZero();
        assertThatThrownBy(() -> new SequenceBatcher<String>(8, 4, 0)).hasMessageContaining("at least the batch size");
    }

    @Test
    void theEndOfTheInputClosesWhatWaitsBehindALostSeqButKeepsTheTail() {
        SequenceBatcher<String> b = new SequenceBatcher<>(2, 16, 10);
        // batch 10 lost seq 21; batches 11 and 12 wait behind it; batch 13 is an incomplete tail
        List<Batch<String>> closed = offer(b, 20, 22, 23, 24, 25, 26);
        assertThat(closed).isEmpty();
        b.closeBlocked(closed);
        assertThat(closed).extracting(Batch::index).containsExactly(10L, 11L, 12L);
        assertThat(closed.get(0).pairs()).containsExactly("p20");
        assertThat(b.waiting()).extracting(SequenceBatcher.Waiting::seq).containsExactly(26L);
    }

    @Test
    void waitingListsPairsAndSkipsInSeqOrderForACheckpoint() {
        SequenceBatcher<String> b = new SequenceBatcher<>(4, 8, 0);
        List<Batch<String>> closed = offer(b, 6, 1);
        b.skip(0, closed);
        assertThat(b.waiting()).extracting(SequenceBatcher.Waiting::seq, SequenceBatcher.Waiting::pair)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(0L, null),
                        org.assertj.core.groups.Tuple.tuple(1L, "p1"), org.assertj.core.groups.Tuple.tuple(6L, "p6"));
        // a restore offers them again into a batcher at the learner's position
        SequenceBatcher<String> restored = new SequenceBatcher<>(4, 8, 0);
        List<Batch<String>> none = new ArrayList<>();
        restored.skip(0, none);
        restored.offer(1, "p1", none);
        restored.offer(6, "p6", none);
        assertThat(none).isEmpty();
        assertThat(offer(restored, 2, 3)).singleElement().satisfies(c -> assertThat(c.pairs()).hasSize(3));
    }
}
