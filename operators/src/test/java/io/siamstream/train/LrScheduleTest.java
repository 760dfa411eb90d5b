package io.siamstream.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import org.junit.jupiter.api.Test;

class LrScheduleTest {

    @Test
    void linearScalingRuleAndCosineDecay() {
        LrSchedule s = new LrSchedule(0.05, 512, 0, 100, false);
        assertThat(s.peakLr()).isCloseTo(0.1, offset(1e-12));
        assertThat(s.lrAt(0)).isCloseTo(0.1, offset(1e-12));
        assertThat(s.lrAt(50)).isCloseTo(0.05, offset(1e-12));
        assertThat(s.lrAt(100)).isCloseTo(0.0, offset(1e-12));
        assertThat(s.lrAt(500)).as("an endless stream stays at the final rate").isCloseTo(0.0, offset(1e-12));
        for (int t = 1; t <= 100; t++) {
            assertThat(s.lrAt(t)).isLessThanOrEqualTo(s.lrAt(t - 1));
        }
    }

    @Test
    void warmupRisesLinearlyToThePeak() {
        LrSchedule s = new LrSchedule(0.256, 256, 4, 104, false);
        assertThat(s.lrAt(0)).isCloseTo(0.256 / 5, offset(1e-12));
        assertThat(s.lrAt(3)).isCloseTo(0.256 * 4 / 5, offset(1e-12));
        assertThat(s.lrAt(4)).isCloseTo(0.256, offset(1e-12));
        assertThat(s.lrAt(54)).isCloseTo(0.128, offset(1e-12));
    }

    @Test
    void cyclicScheduleRestarts() {
        LrSchedule s = new LrSchedule(0.1, 256, 0, 10, true);
        assertThat(s.lrAt(10)).isEqualTo(s.lrAt(0));
        assertThat(s.lrAt(25)).isEqualTo(s.lrAt(5));
    }

    @Test
    void constantScheduleKeepsThePeakAfterWarmupAndTauAtItsBase() {
        LrSchedule s = new LrSchedule(0.5, 128, 10, ScheduleKind.CONSTANT, 1, 1);
        assertThat(s.lrAt(0)).isCloseTo(0.25 / 11, offset(1e-12));
        assertThat(s.lrAt(10)).isEqualTo(0.25);
        assertThat(s.lrAt(20_000)).isEqualTo(0.25);
        assertThat(s.lrAt(Long.MAX_VALUE / 2)).isEqualTo(0.25);
        assertThat(io.siamstream.method.ByolConfig.paper().tauAt(s.progress(20_000))).isEqualTo(0.996);
    }

    @Test
    void warmRestartsNeverReachZeroAndGrowByTheMultiplier() {
        LrSchedule s = new LrSchedule(0.5, 256, 5, ScheduleKind.COSINE_RESTARTS, 10, 2);
        // warm-up 0-4, periods of 10, 20, 40, ... steps from step 5
        assertThat(s.lrAt(5)).isEqualTo(0.5);
        assertThat(s.lrAt(15)).as("second period starts at the peak").isEqualTo(0.5);
        assertThat(s.lrAt(35)).as("third period").isEqualTo(0.5);
        assertThat(s.lrAt(25)).as("middle of the 20-step period").isCloseTo(0.25, offset(1e-12));
        assertThat(s.progress(25)).isEqualTo(0.5);
        for (long t = 0; t <= 25_000; t++) {
            assertThat(s.lrAt(t)).as("lr at step " + t).isPositive();
            assertThat(s.progress(t)).isBetween(0.0, 1.0);
        }
        LrSchedule fixed = new LrSchedule(0.5, 256, 0, ScheduleKind.COSINE_RESTARTS, 1000, 1);
        assertThat(fixed.lrAt(20_000)).isEqualTo(fixed.lrAt(0)).isEqualTo(0.5);
        assertThat(fixed.lrAt(20_999)).isPositive().isLessThan(1e-5);
    }

    @Test
    void badValuesNameTheOption() {
        assertThatThrownBy(() -> new LrSchedule(0.1, 256, 0, ScheduleKind.COSINE_RESTARTS, 10, 0.5))
                .hasMessageContaining("optimizer.restart-multiplier");
        assertThatThrownBy(() -> ScheduleKind.parse("siamstream.train.schedule", "linear"))
                .hasMessageContaining("siamstream.train.schedule").hasMessageContaining("cosine, constant, cosine-restarts");
        assertThat(new LrSchedule(0.1, 256, 50, ScheduleKind.CONSTANT, 1, 1).lrAt(50)).as("warm-up longer than"
                + " the unused length is fine for constant").isCloseTo(0.1, offset(1e-12));
        assertThatThrownBy(() -> new LrSchedule(-1, 256, 0, 10, false)).hasMessageContaining("optimizer.base-lr");
        assertThatThrownBy(() -> new LrSchedule(0.1, 256, 10, 10, false)).hasMessageContaining("optimizer.warmup-steps");
        assertThatThrownBy(() -> new LrSchedule(0.1, 256, 0, 0, false)).hasMessageContaining("optimizer.schedule-steps");
        assertThatThrownBy(() -> new OptimizerConfig(0.1, 1.5, 0, 0, 10, false)).hasMessageContaining("optimizer.momentum");
    }
}
