package io.siamstream.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The state codec and exact continuation after a restore: what checkpoints and recovery rely on. */
class LearnerStateTest {

    private static final LearnerConfig CONFIG = LearnerConfig.smallConvNet(16, 100, 7);

    @Test
    void codecRoundTripKeepsEveryTensorAndCounter() {
        try (Learner learner = Learner.create(CONFIG)) {
            learner.step(TestBatches.random(1, 16, 1, 28));
            learner.step(TestBatches.random(2, 16, 1, 28));
            LearnerState state = learner.snapshot();
            LearnerState decoded = LearnerStateCodec.decode(LearnerStateCodec.encode(state));

            assertThat(decoded.step()).isEqualTo(2);
            assertThat(decoded.fingerprint()).isEqualTo(CONFIG.modelFingerprint());
            assertThat(decoded.seed()).isEqualTo(7);
            assertThat(decoded.tensors().keySet()).containsExactlyElementsOf(state.tensors().keySet());
            assertThat(decoded.tensors()).isEqualTo(state.tensors());
            // parameters, BN running statistics and one momentum buffer per trainable parameter
            assertThat(state.tensors().keySet()).anyMatch(k -> k.endsWith("runningMean"));
            long params = state.tensors().keySet().stream().filter(k -> k.startsWith(LearnerState.PARAM)).count();
            long buffers = state.tensors().keySet().stream().filter(k -> k.startsWith(LearnerState.MOMENTUM)).count();
            assertThat(buffers).isPositive().isLessThan(params);
        }
    }

    @Test
    void restoredLearnerContinuesBitForBit() {
        ViewBatch[] batches = new ViewBatch[5];
        for (int i = 0; i < batches.length; i++) {
            batches[i] = TestBatches.random(100 + i, 16, 1, 28);
        }
        Map<String, Tensor> uninterrupted;
        double lastLoss;
        try (Learner learner = Learner.create(CONFIG)) {
            for (ViewBatch batch : batches) {
                lastLoss = learner.step(batch).loss();
            }
            uninterrupted = learner.snapshot().tensors();
        }

        byte[] checkpoint;
        try (Learner learner = Learner.create(CONFIG)) {
            for (int i = 0; i < 3; i++) {
                learner.step(batches[i]);
            }
            checkpoint = LearnerStateCodec.encode(learner.snapshot());
        }
        try (Learner restored = Learner.restore(CONFIG, LearnerStateCodec.decode(checkpoint))) {
            assertThat(restored.steps()).isEqualTo(3);
            for (int i = 3; i < batches.length; i++) {
                assertThat(restored.step(batches[i]).step()).isEqualTo(i + 1);
            }
            Map<String, Tensor> resumed = restored.snapshot().tensors();
            assertThat(resumed.keySet()).isEqualTo(uninterrupted.keySet());
            for (String name : uninterrupted.keySet()) {
                assertThat(resumed.get(name).data()).as(name).isEqualTo(uninterrupted.get(name).data());
            }
        }
    }

    @Test
    void restoreInTheMiddleOfARestartCycleContinuesBitForBit() {
        // BYOL: the target's tau follows the cycle's position, so both schedules must resume where they were
        OptimizerConfig restarts = OptimizerConfig.simSiamCifar(4).withSchedule(ScheduleKind.COSINE_RESTARTS, 4, 2)
                .withWarmup(1);
        LearnerConfig config = LearnerConfig.smallConvNet(io.siamstream.method.ByolConfig.paper(), 16, 4, 7)
                .withOptimizer(restarts);
        LrSchedule schedule = restarts.schedule(16);
        // warm-up step 0, the first period steps 1-4, the second (4 x 2 steps) from step 5: step 6 is inside it
        assertThat(schedule.lrAt(5)).isEqualTo(schedule.peakLr());
        assertThat(schedule.progress(6)).isEqualTo(1.0 / 8);
        ViewBatch[] batches = new ViewBatch[9];
        for (int i = 0; i < batches.length; i++) {
            batches[i] = TestBatches.random(300 + i, 16, 1, 28);
        }
        Map<String, Tensor> uninterrupted;
        double[] lrs = new double[batches.length];
        try (Learner learner = Learner.create(config)) {
            for (int i = 0; i < batches.length; i++) {
                lrs[i] = learner.step(batches[i]).lr();
            }
            uninterrupted = learner.snapshot().tensors();
        }
        byte[] checkpoint;
        try (Learner learner = Learner.create(config)) {
            for (int i = 0; i < 6; i++) {
                learner.step(batches[i]);
            }
            checkpoint = LearnerStateCodec.encode(learner.snapshot());
        }
        try (Learner restored = Learner.restore(config, LearnerStateCodec.decode(checkpoint))) {
            for (int i = 6; i < batches.length; i++) {
                assertThat(restored.step(batches[i]).lr()).as("lr of step " + (i + 1)).isEqualTo(lrs[i]);
            }
            Map<String, Tensor> resumed = restored.snapshot().tensors();
            assertThat(resumed.keySet()).isEqualTo(uninterrupted.keySet()).anyMatch(k -> k.startsWith(LearnerState.TARGET));
            for (String name : uninterrupted.keySet()) {
                assertThat(resumed.get(name).data()).as(name).isEqualTo(uninterrupted.get(name).data());
            }
        }
    }

    @Test
    void restoringWithoutMomentumWouldDiverge() {
        // Guards the test above: the momentum buffers matter, so dropping them must change the next step.
        ViewBatch a = TestBatches.random(1, 16, 1, 28);
        ViewBatch b = TestBatches.random(2, 16, 1, 28);
        try (Learner learner = Learner.create(CONFIG)) {
            learner.step(a);
            LearnerState state = learner.snapshot();
            learner.step(b);
            float[] withMomentum = learner.snapshot().tensors().values().iterator().next().data();

            Map<String, Tensor> paramsOnly = new java.util.LinkedHashMap<>(state.tensors());
            paramsOnly.keySet().removeIf(k -> k.startsWith(LearnerState.MOMENTUM));
            LearnerState stripped = new LearnerState(state.fingerprint(), 1, 0, 7, paramsOnly);
            try (Learner restored = Learner.restore(CONFIG, stripped)) {
                restored.step(b);
                float[] without = restored.snapshot().tensors().values().iterator().next().data();
                assertThat(without).isNotEqualTo(withMomentum);
            }
        }
    }

    @Test
    void unknownFormatVersionFailsWithClearMessage() {
        try (Learner learner = Learner.create(CONFIG)) {
            byte[] bytes = LearnerStateCodec.encode(learner.snapshot());
            ByteBuffer.wrap(bytes).putInt(4, 99);
            assertThatThrownBy(() -> LearnerStateCodec.decode(bytes))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("format version 99 is not supported")
                    .hasMessageContaining("reads versions 1 to 1");
        }
    }

    @Test
    void wrongMagicAndTruncationAreRejected() {
        try (Learner learner = Learner.create(CONFIG)) {
            byte[] bytes = LearnerStateCodec.encode(learner.snapshot());
            byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length / 2);
            assertThatThrownBy(() -> LearnerStateCodec.decode(truncated))
                    .hasMessageContaining("truncated or corrupt");
            bytes[0] = 0;
            assertThatThrownBy(() -> LearnerStateCodec.decode(bytes)).hasMessageContaining("magic");
        }
    }

    @Test
    void stateOfAnotherModelIsRefused() {
        try (Learner learner = Learner.create(CONFIG)) {
            LearnerState state = learner.snapshot();
            LearnerConfig other = CONFIG.withMethod(((io.siamstream.method.SimSiamConfig) CONFIG.method()).withoutPredictor());
            assertThatThrownBy(() -> Learner.restore(other, state))
                    .hasMessageContaining("different model")
                    .hasMessageContaining("pred=false");
        }
    }
}
