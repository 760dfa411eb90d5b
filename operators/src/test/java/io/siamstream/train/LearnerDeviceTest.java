package io.siamstream.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import io.siamstream.method.ByolConfig;
import io.siamstream.method.MethodConfig;
import io.siamstream.method.Moco;
import io.siamstream.method.MocoConfig;
import io.siamstream.method.SimClrConfig;
import io.siamstream.method.SimSiamConfig;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What can be checked on the CPU of the GPU path: every array a learner keeps (parameters, BN statistics, momentum
 * network, optimizer buffers, MoCo's queue) lives in the learner's own manager tree, hence on its device, after
 * creation, after steps and after a restore. An array made by another manager (e.g. {@code newBaseManager()}
 * without a device) would sit on the engine's default device, GPU 0, wherever the learner was put.
 */
class LearnerDeviceTest {

    private static final int BATCH = 8;

    private static List<MethodConfig> methods() {
        return List.of(SimSiamConfig.paper(), ByolConfig.paper(), SimClrConfig.cifar(), MocoConfig.smallData());
    }

    @Test
    void everyArrayTheLearnerKeepsIsOnItsDeviceAndInItsManager() {
        for (MethodConfig method : methods()) {
            LearnerConfig config = LearnerConfig.smallConvNet(method, BATCH, 100, 7);
            try (Learner learner = Learner.create(config, ai.djl.Device.cpu())) {
                assertOnLearnerDevice(learner, method + " fresh");
                for (int i = 0; i < 2; i++) {
                    learner.step(TestBatches.random(100 + i, BATCH, 1, 28));
                }
                assertOnLearnerDevice(learner, method + " after steps");
                float[] features = learner.embed(java.util.Arrays.copyOf(
                        TestBatches.random(9, BATCH, 1, 28).view1(), 3 * 28 * 28), 3);
                assertThat(features).hasSize(3 * learner.featureDim());
                assertOnLearnerDevice(learner, method + " after embed");
                try (Learner restored = Learner.restore(config, learner.snapshot(), learner.device())) {
                    assertOnLearnerDevice(restored, method + " restored");
                }
            }
        }
    }

    private static void assertOnLearnerDevice(Learner learner, String what) {
        NDManager root = learner.manager();
        assertThat(root.getDevice()).as(what).isEqualTo(learner.device());
        List<NDArray> kept = new ArrayList<>();
        for (Parameter p : learner.method().online().getParameters().values()) {
            kept.add(p.getArray());
        }
        if (learner.method().target() != null) {
            for (Parameter p : learner.method().target().getParameters().values()) {
                kept.add(p.getArray());
            }
        }
        if (learner.method() instanceof Moco moco) {
            kept.add(moco.queue().rows());
        }
        assertThat(kept).as(what).isNotEmpty();
        for (NDArray array : kept) {
            assertThat(array.getDevice()).as(what + ": " + array.getName()).isEqualTo(learner.device());
            assertThat(inTree(array.getManager(), root)).as(what + ": array " + array.getName() + " " + array.getShape()
                    + " is in the learner's manager tree").isTrue();
        }
        for (NDArray array : root.getManagedArrays()) {
            assertThat(array.getDevice()).as(what + ": managed array " + array.getShape()).isEqualTo(learner.device());
        }
    }

    private static boolean inTree(NDManager manager, NDManager root) {
        for (NDManager m = manager; m != null; m = m.getParentManager()) {
            if (m == root) {
                return true;
            }
            if (m.getParentManager() == m) {
                return false;
            }
        }
        return false;
    }
}
