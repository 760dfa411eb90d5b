package io.siamstream.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.siamstream.bench.BenchProbes.Checkpoint;
import io.siamstream.bench.JobThroughputBenchmark.CheckpointPace;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The split of a window's steps by checkpoint must count what a checkpoint costs the training pace, and only that. */
class CheckpointPaceTest {

    private static Checkpoint checkpoint(long triggerMillis, long endToEndMs) {
        return new Checkpoint(1, triggerMillis, endToEndMs, 10, 20, 0, 0, 0, 0);
    }

    @Test
    void stepsWhileACheckpointRunsCountTheWallTimeItAdded() {
        // a checkpoint triggered at 5 s that took 200 ms: the steps that end from 5 s to 6.2 s (its completion and a
        // second after it) ran while it ran; those two took 150 ms instead of the others' 100
        double[] wall = {100, 100, 150, 150, 100, 100, 100, 100, 100, 100};
        double[] learner = {90, 90, 120, 120, 90, 90, 90, 90, 90, 90};
        long[] shifted = {100, 200, 5_300, 5_400, 10_500, 10_600, 10_700, 10_800, 10_900, 11_000};
        CheckpointPace pace = CheckpointPace.of(wall, learner, shifted, List.of(checkpoint(5_000, 200)));
        assertThat(pace.nearSteps()).isEqualTo(2);
        assertThat(pace.farSteps()).isEqualTo(8);
        assertThat(pace.nearWallMs()).isEqualTo(150.0);
        assertThat(pace.farWallMs()).isEqualTo(100.0);
        assertThat(pace.nearLearnerMs()).isEqualTo(120.0);
        assertThat(pace.farLearnerMs()).isEqualTo(90.0);
        assertThat(pace.addedMs()).isCloseTo(100.0, within(1e-9));
    }

    @Test
    void aCheckpointThatSlowsNothingAddsNothing() {
        double[] wall = {100, 100, 100, 100};
        long[] end = {1_000, 2_000, 2_500, 9_000};
        CheckpointPace pace = CheckpointPace.of(wall, wall, end, List.of(checkpoint(1_500, 100)));
        assertThat(pace.nearSteps()).isEqualTo(2);
        assertThat(pace.addedMs()).isZero();
    }

    @Test
    void onlyCheckpointsThatOverlapTheWindowShareTheCost() {
        // the second checkpoint ran long before the window: it is not one of those the added time is shared by
        double[] wall = {100, 200, 100, 100};
        long[] end = {10_000, 10_500, 20_000, 30_000};
        CheckpointPace pace = CheckpointPace.of(wall, wall, end,
                List.of(checkpoint(10_400, 50), checkpoint(1_000, 50)));
        assertThat(pace.nearSteps()).isEqualTo(1);
        assertThat(pace.addedMs()).isEqualTo(100.0);
    }

    @Test
    void withoutStepsOutsideCheckpointsThePaceIsUnknown() {
        double[] wall = {100, 100};
        CheckpointPace pace = CheckpointPace.of(wall, wall, new long[] {1_000, 1_100}, List.of(checkpoint(900, 100)));
        assertThat(pace.farSteps()).isZero();
        assertThat(pace.addedMs()).isNaN();
    }
}
