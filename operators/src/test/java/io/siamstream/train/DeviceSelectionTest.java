package io.siamstream.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import ai.djl.Device;
import java.util.List;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;

/** The device rule as a pure function, and the check before allocation; no GPU needed. */
class DeviceSelectionTest {

    /** An engine count that must not be asked for: assigned GPUs decide without the engine. */
    private static final IntSupplier NOT_ASKED = () -> {
        throw new AssertionError("the engine's GPU count was asked for");
    };

    @Test
    void autoTakesTheGpuTheRuntimeAssigned() {
        assertThat(DeviceSelection.decide("auto", List.of(3), NOT_ASKED)).isEqualTo(Device.gpu(3));
        assertThat(DeviceSelection.decide("auto", List.of(5, 3), NOT_ASKED)).as("the lowest of several").isEqualTo(Device.gpu(3));
        assertThat(DeviceSelection.decide(" AUTO ", List.of(0), NOT_ASKED)).isEqualTo(Device.gpu(0));
        // the engine-aware entry point decides the same without starting a GPU, on this CPU-only machine too
        assertThat(DeviceSelection.resolve("auto", List.of(3))).isEqualTo(Device.gpu(3));
        assertThat(DeviceSelection.index(DeviceSelection.resolve("auto", List.of(3)))).isEqualTo(3);
    }

    @Test
    void autoWithoutAssignedGpusTakesTheEnginesFirstGpuElseTheCpu() {
        assertThat(DeviceSelection.decide("auto", List.of(), () -> 2)).isEqualTo(Device.gpu(0));
        assertThat(DeviceSelection.decide("auto", List.of(), () -> 0)).isEqualTo(Device.cpu());
        assertThat(DeviceSelection.decide("auto", null, () -> 0)).isEqualTo(Device.cpu());
        assertThat(DeviceSelection.index(Device.cpu())).isEqualTo(-1);
    }

    @Test
    void explicitValuesWinOverAssignedGpus() {
        assertThat(DeviceSelection.decide("gpu:1", List.of(3), () -> 4)).isEqualTo(Device.gpu(1));
        assertThat(DeviceSelection.decide("cpu", List.of(3), NOT_ASKED)).isEqualTo(Device.cpu());
        assertThat(DeviceSelection.decide("gpu", List.of(3), NOT_ASKED)).as("plain gpu: the assigned one").isEqualTo(Device.gpu(3));
        assertThat(DeviceSelection.decide("gpu", List.of(), NOT_ASKED)).isEqualTo(Device.gpu(0));
        assertThatThrownBy(() -> DeviceSelection.decide("gpu:4", List.of(3), () -> 2))
                .hasMessageContaining("train.device").hasMessageContaining("asks for GPU 4 but the engine finds 2");
    }

    @Test
    void malformedValuesAndIndicesFail() {
        assertThatThrownBy(() -> DeviceSelection.decide("gpu:x", List.of(), () -> 0))
                .hasMessageContaining("allowed values: auto, cpu, gpu, gpu:N");
        assertThatThrownBy(() -> DeviceSelection.decide("auto", java.util.Arrays.asList(1, null), NOT_ASKED))
                .hasMessageContaining("not an index");
        assertThatThrownBy(() -> DeviceSelection.decide("auto", List.of(-1), NOT_ASKED))
                .hasMessageContaining("not an index");
    }

    @Test
    void aGpuTheEngineCannotUseFailsBeforeAnyAllocationAndSaysWhatToDo() {
        DeviceSelection.requireAvailable(Device.cpu(), "auto", 0);
        DeviceSelection.requireAvailable(Device.gpu(1), "auto", 2);
        assertThatThrownBy(() -> DeviceSelection.requireAvailable(Device.gpu(3), "auto", 0))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("train.device 'auto' chose gpu(3)")
                .hasMessageContaining("finds 0 GPU(s)")
                .hasMessageContaining("PYTORCH_FLAVOR")
                .hasMessageContaining("CUDA_VISIBLE_DEVICES");
    }

    @Test
    void learnerAndFrozenEncoderAreMadeOnTheDecidedDevice() {
        assumeThat(Engines.pyTorch().getGpuCount()).as("a machine with fewer than 4 GPUs").isLessThan(4);
        LearnerConfig config = LearnerConfig.smallConvNet(4, 10, 1).withDevice("auto");
        Device decided = DeviceSelection.resolve(config.device(), List.of(3));
        assertThatThrownBy(() -> Learner.create(config, decided)).hasMessageContaining("chose gpu(3)");
        try (Learner cpu = Learner.create(config, Device.cpu())) {
            assertThat(cpu.device()).isEqualTo(Device.cpu());
            LearnerState snapshot = cpu.encoderSnapshot();
            assertThatThrownBy(() -> Learner.restore(config, cpu.snapshot(), decided)).hasMessageContaining("gpu(3)");
            assertThatThrownBy(() -> new io.siamstream.eval.FrozenEncoder(config.encoder(), 28, snapshot, decided))
                    .hasMessageContaining("the device gpu(3) was chosen");
            try (var frozen = new io.siamstream.eval.FrozenEncoder(config.encoder(), 28, snapshot, Device.cpu())) {
                assertThat(frozen.device()).isEqualTo(Device.cpu());
            }
        }
    }
}
