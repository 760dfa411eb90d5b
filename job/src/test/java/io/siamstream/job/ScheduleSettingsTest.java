package io.siamstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.method.ByolConfig;
import io.siamstream.train.LrSchedule;
import io.siamstream.train.OptimizerConfig;
import io.siamstream.train.ScheduleKind;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/**
 * The learning-rate schedule an endless run gets: bounded input decays over its real length, unbounded input keeps
 * learning for ever (lr > 0, BYOL's tau < 1) after 20,000 steps and far beyond; bad values name the option.
 */
class ScheduleSettingsTest {

    private static OptimizerConfig optimizer(Configuration conf) {
        return JobSettings.from(conf).learner().optimizer();
    }

    private static Configuration conf(long epochs) {
        Configuration conf = new Configuration();
        conf.set(SiamstreamOptions.EPOCHS, epochs);
        return conf;
    }

    @Test
    void boundedInputDecaysAlongACosineOverItsRealLength() {
        Configuration conf = conf(5);
        conf.set(SiamstreamOptions.BATCH_SIZE, 128);
        OptimizerConfig o = optimizer(conf);
        assertThat(o.schedule()).isEqualTo(ScheduleKind.COSINE);
        // the bundled sample: 4,000 images x 5 epochs / 128 = 156 full batches
        assertThat(o.totalSteps()).isEqualTo(156);
        assertThat(o.warmupSteps()).isZero();
        assertThat(o.schedule(128).lrAt(155)).isPositive();
        assertThat(o.schedule(128).lrAt(156)).isZero();
    }

    @Test
    void endlessReplayKeepsLearningAfter20000Steps() {
        for (String method : new String[] {"simsiam", "byol", "simclr", "moco"}) {
            Configuration conf = conf(0);
            conf.set(SiamstreamOptions.METHOD, method);
            JobSettings settings = JobSettings.from(conf);
            OptimizerConfig o = settings.learner().optimizer();
            LrSchedule s = o.schedule(settings.learner().batchSize());
            assertThat(o.schedule()).as(method).isEqualTo(ScheduleKind.CONSTANT);
            assertThat(o.warmupSteps()).isEqualTo(JobSettings.UNBOUNDED_WARMUP_STEPS);
            assertThat(s.lrAt(0)).isLessThan(s.peakLr());
            assertThat(s.lrAt(20_000)).as(method + " lr after 20,000 steps").isEqualTo(s.peakLr()).isPositive();
            assertThat(s.lrAt(10_000_000)).isEqualTo(s.peakLr());
            if (settings.learner().method() instanceof ByolConfig byol) {
                assertThat(byol.tauAt(s.progress(20_000))).as("BYOL's tau after 20,000 steps").isLessThan(1);
            }
        }
    }

    @Test
    void kafkaIsUnboundedToo() {
        Configuration conf = conf(3);
        conf.set(SiamstreamOptions.SOURCE_KIND, "kafka");
        assertThat(optimizer(conf).schedule()).isEqualTo(ScheduleKind.CONSTANT);
    }

    @Test
    void warmRestartsOnAnEndlessStream() {
        Configuration conf = conf(0);
        conf.set(SiamstreamOptions.SCHEDULE, "cosine-restarts");
        conf.set(SiamstreamOptions.RESTART_PERIOD, 1_000L);
        conf.set(SiamstreamOptions.RESTART_MULTIPLIER, 2.0);
        conf.set(SiamstreamOptions.WARMUP_STEPS, 50L);
        conf.set(SiamstreamOptions.METHOD, "byol");
        JobSettings settings = JobSettings.from(conf);
        LrSchedule s = settings.learner().optimizer().schedule(settings.learner().batchSize());
        assertThat(s.warmupSteps()).isEqualTo(50);
        assertThat(s.totalSteps()).isEqualTo(1_000);
        assertThat(s.restartMultiplier()).isEqualTo(2.0);
        ByolConfig byol = (ByolConfig) settings.learner().method();
        for (long t = 0; t <= 20_000; t++) {
            assertThat(s.lrAt(t)).isPositive();
            assertThat(byol.tauAt(s.progress(t))).isLessThan(1);
        }
        // periods 1,000, 2,000, 4,000, 8,000 after the warm-up: step 15,050 starts the fifth
        assertThat(s.lrAt(15_050)).isEqualTo(s.peakLr());
    }

    @Test
    void anExplicitLengthMeansCosineAsBefore() {
        Configuration conf = conf(0);
        conf.set(SiamstreamOptions.SCHEDULE_STEPS, 300L);
        OptimizerConfig o = optimizer(conf);
        assertThat(o.schedule()).isEqualTo(ScheduleKind.COSINE);
        assertThat(o.totalSteps()).isEqualTo(300);
    }

    @Test
    void badScheduleSettingsFailAtStartNamingTheOption() {
        Configuration cosineEndless = conf(0);
        cosineEndless.set(SiamstreamOptions.SCHEDULE, "cosine");
        assertThatThrownBy(() -> JobSettings.from(cosineEndless))
                .hasMessageContaining("siamstream.train.schedule-steps").hasMessageContaining("constant, cosine-restarts");

        Configuration unknown = conf(0);
        unknown.set(SiamstreamOptions.SCHEDULE, "step");
        assertThatThrownBy(() -> JobSettings.from(unknown))
                .hasMessageContaining("siamstream.train.schedule").hasMessageContaining("cosine, constant, cosine-restarts");

        Configuration multiplier = conf(0);
        multiplier.set(SiamstreamOptions.SCHEDULE, "cosine-restarts");
        multiplier.set(SiamstreamOptions.RESTART_MULTIPLIER, 0.5);
        assertThatThrownBy(() -> JobSettings.from(multiplier)).hasMessageContaining("siamstream.train.restart-multiplier");

        Configuration period = conf(0);
        period.set(SiamstreamOptions.SCHEDULE, "cosine-restarts");
        period.set(SiamstreamOptions.RESTART_PERIOD, 0L);
        assertThatThrownBy(() -> JobSettings.from(period)).hasMessageContaining("siamstream.train.restart-period");

        Configuration warmup = conf(1);
        warmup.set(SiamstreamOptions.WARMUP_STEPS, 1_000L);
        assertThatThrownBy(() -> JobSettings.from(warmup)).hasMessageContaining("siamstream.train.warmup-steps");
    }
}
