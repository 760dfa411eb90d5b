package io.siamstream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.siamstream.record.StepMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The soak's exactly-once check must catch what a broken sink would commit: a duplicate, a gap, a stray line. */
class StepLedgerTest {

    private static String line(long step, double lr) {
        StepMetrics m = new StepMetrics();
        m.step = step;
        m.lr = lr;
        return m.toString();
    }

    /** Committed part files (in-progress ones start with a dot and are ignored), as the file sink leaves them. */
    private static void write(Path steps, String name, long from, long to) throws Exception {
        StringBuilder b = new StringBuilder();
        for (long s = from; s <= to; s++) {
            b.append(line(s, 0.125)).append('\n');
        }
        Files.createDirectories(steps.resolve("2026-11-30--10"));
        Files.writeString(steps.resolve("2026-11-30--10").resolve(name), b);
    }

    @Test
    void everyStepOnceIsAPass(@TempDir Path dir) throws Exception {
        Path steps = dir.resolve("steps");
        write(steps, "part-0-0", 1, 60);
        write(steps, ".part-0-1.inprogress", 61, 80); // not committed: not read
        StepLedger ledger = new StepLedger();
        assertThat(ledger.readNew(steps)).isEqualTo(60);
        write(steps, "part-0-1", 61, 120);
        assertThat(ledger.readNew(steps)).isEqualTo(60); // only the new file
        StepLedger.Verdict v = ledger.check(100);
        assertThat(v.exactlyOnce()).as(v.describe()).isTrue();
        assertThat(v.describe()).startsWith("PASS: 120 committed lines, 120 distinct steps, highest 120");
        assertThat(ledger.lr(100)).isEqualTo(0.125);
    }

    @Test
    void aDuplicatedStepFails(@TempDir Path dir) throws Exception {
        Path steps = dir.resolve("steps");
        write(steps, "part-0-0", 1, 60);
        write(steps, "part-0-1", 55, 120); // steps 55..60 committed again, as a replay after a restore would without 2PC
        StepLedger ledger = new StepLedger();
        ledger.readNew(steps);
        StepLedger.Verdict v = ledger.check(100);
        assertThat(v.exactlyOnce()).isFalse();
        assertThat(v.duplicates()).containsOnlyKeys(55L, 56L, 57L, 58L, 59L, 60L);
        assertThat(v.describe()).startsWith("FAIL: ").contains("6 duplicated", "first: step 55 x2");
    }

    @Test
    void aGapOrTooFewStepsOrAStrayLineFails(@TempDir Path dir) throws Exception {
        Path steps = dir.resolve("steps");
        write(steps, "part-0-0", 1, 40);
        write(steps, "part-0-1", 42, 120);
        StepLedger gap = new StepLedger();
        gap.readNew(steps);
        assertThat(gap.check(100).missing()).containsExactly(41L);
        assertThat(gap.check(100).exactlyOnce()).isFalse();

        StepLedger shortRun = new StepLedger();
        for (long s = 1; s <= 99; s++) {
            shortRun.add(line(s, 0.1));
        }
        assertThat(shortRun.check(100).exactlyOnce()).as("step 100 never committed").isFalse();

        StepLedger stray = new StepLedger();
        for (long s = 1; s <= 100; s++) {
            stray.add(line(s, 0.1));
        }
        stray.add("{\"replica\":0,\"loss\":1.0}");
        assertThat(stray.check(100).exactlyOnce()).isFalse();
        assertThat(stray.lr(101)).isNaN();
    }

    @Test
    void reportRowsAreTheFirstSampleAtOrAfterEachMultipleAndTheLast() {
        var samples = new java.util.ArrayList<StreamingSoak.Sample>();
        for (long step : new long[] {40, 90, 130, 260, 310, 330, 401, 402}) {
            samples.add(new StreamingSoak.Sample(step, step, step, 1, 64, 500, 100, 200, 66, Double.NaN, 0.1, 0, 0, 1, null, 0, 0, 0,
                    0, "RUNNING"));
        }
        assertThat(StreamingSoak.rows(samples, 100)).extracting(StreamingSoak.Sample::step)
                .containsExactly(130L, 260L, 310L, 401L); // 402, the last: too close to the row before
    }
}
