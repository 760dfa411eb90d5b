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
    void badValuesNameTheOption() {
        assertThatThrownBy(() -> new LrSchedule(-1, 256, 0, 10, false)).hasMessageContaining("optimizer.base-lr");
        assertThatThrownBy(() -> new LrSchedule(0.1, 256, 10, 10, false)).hasMessageContaining("optimizer.warmup-steps");
        assertThatThrownBy(() -> new LrSchedule(0.1, 256, 0, 0, false)).hasMessageContaining("optimizer.total-steps");
        assertThatThrownBy(() -> new OptimizerConfig(0.1, 1.5, 0, 0, 10, false)).hasMessageContaining("optimizer.momentum");
    }
}
