package io.siamstream.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LearnerStepTest {

    private static final LearnerConfig CONFIG = LearnerConfig.smallConvNet(16, 1000, 3);

    @Test
    void stepReportsLossCollapseLrAndTime() {
        try (Learner learner = Learner.create(CONFIG)) {
            StepResult r = learner.step(TestBatches.random(1, 16, 1, 28));
            assertThat(r.step()).isEqualTo(1);
            assertThat(r.skipped()).isFalse();
            assertThat(r.loss()).isBetween(-1.0, 1.0);
            assertThat(r.projectionStd()).isBetween(0.0, 1.0);
            assertThat(r.healthyStd()).isEqualTo(1 / Math.sqrt(256));
            assertThat(r.lr()).isEqualTo(CONFIG.optimizer().schedule(16).lrAt(0));
            assertThat(r.millis()).isPositive();
            assertThat(learner.device()).isEqualTo(Device.cpu());
        }
    }

    @Test
    void nonFiniteLossSkipsTheStepAndLeavesTheModelUntouched() {
        try (Learner learner = Learner.create(CONFIG)) {
            learner.step(TestBatches.random(1, 16, 1, 28));
            Map<String, Tensor> before = learner.snapshot().tensors();
            ViewBatch good = TestBatches.random(2, 16, 1, 28);
            float[] poisoned = good.view1().clone();
            poisoned[5] = Float.NaN;
            StepResult r = learner.step(new ViewBatch(16, 1, 28, 28, poisoned, good.view2()));
            assertThat(r.skipped()).isTrue();
            assertThat(r.step()).isEqualTo(1);
            assertThat(learner.skippedSteps()).isEqualTo(1);
            Map<String, Tensor> after = learner.snapshot().tensors();
            for (String name : before.keySet()) {
                assertThat(after.get(name).data()).as(name + " (including BN running statistics)")
                        .isEqualTo(before.get(name).data());
            }
            // and the next good step trains normally, without NaN leaking in through stale gradients
            StepResult next = learner.step(good);
            assertThat(next.skipped()).isFalse();
            assertThat(next.step()).isEqualTo(2);
            for (Tensor t : learner.snapshot().tensors().values()) {
                for (float v : t.data()) {
                    assertThat(Float.isFinite(v)).isTrue();
                }
            }
        }
    }

    @Test
    void nativeArrayCountStaysConstantOverManySteps() {
        NDManager probe = Engines.pyTorch().newBaseManager();
        NDManager system = probe.getParentManager();
        probe.close();
        try (Learner learner = Learner.create(CONFIG)) {
            ViewBatch batch = TestBatches.random(5, 16, 1, 28);
            learner.step(batch); // the first step creates the momentum buffers
            int learnerArrays = learner.managedArrayCount();
            int systemArrays = system.getManagedArrays().size();
            for (int i = 0; i < 150; i++) {
                learner.step(batch);
                if (i % 50 == 0) {
                    learner.embed(Arrays.copyOf(batch.view1(), 4 * 28 * 28), 4);
                    learner.snapshot();
                }
            }
            assertThat(learner.managedArrayCount()).isEqualTo(learnerArrays);
            assertThat(system.getManagedArrays().size()).isEqualTo(systemArrays);
        }
    }

    @Test
    void wrongViewShapeIsRejected() {
        try (Learner learner = Learner.create(CONFIG)) {
            assertThatThrownBy(() -> learner.step(TestBatches.random(1, 16, 1, 32)))
                    .hasMessageContaining("does not fit the model's input");
        }
    }

    @Test
    void deviceOptionIsValidated() {
        assertThatThrownBy(() -> CONFIG.withDevice("tpu"))
                .hasMessageContaining("train.device")
                .hasMessageContaining("allowed values: auto, cpu, gpu, gpu:N");
        assertThat(DeviceSelection.resolve("auto")).isEqualTo(
                ai.djl.engine.Engine.getEngine("PyTorch").getGpuCount() > 0 ? Device.gpu(0) : Device.cpu());
    }

    @Test
    void sameSeedSameModelDifferentSeedDifferentModel() {
        try (Learner a = Learner.create(CONFIG); Learner b = Learner.create(CONFIG);
             Learner c = Learner.create(LearnerConfig.smallConvNet(16, 1000, 4))) {
            assertThat(a.snapshot().tensors()).isEqualTo(b.snapshot().tensors());
            assertThat(a.snapshot().tensors()).isNotEqualTo(c.snapshot().tensors());
        }
    }
}
