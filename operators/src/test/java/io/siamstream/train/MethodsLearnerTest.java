package io.siamstream.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Pair;
import io.siamstream.method.ByolConfig;
import io.siamstream.method.MethodConfig;
import io.siamstream.method.Moco;
import io.siamstream.method.MocoConfig;
import io.siamstream.method.MomentumUpdate;
import io.siamstream.method.SimClrConfig;
import io.siamstream.method.SimSiamConfig;
import io.siamstream.model.SiameseNetwork;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * BYOL, SimCLR and MoCo v2 through the same learner as SimSiam: their extra state (momentum network, queue) is in the
 * snapshot, survives the codec and continues bit for bit; the momentum update follows its closed form; LARS follows
 * its formula.
 */
class MethodsLearnerTest {

    private static final int BATCH = 16;

    static Stream<MethodConfig> methods() {
        return Stream.of(SimSiamConfig.paper(), ByolConfig.paper(), SimClrConfig.cifar(),
                MocoConfig.smallData().withQueueSize(40));
    }

    private static LearnerConfig config(MethodConfig method) {
        return LearnerConfig.smallConvNet(method, BATCH, 100, 11);
    }

    @ParameterizedTest
    @MethodSource("methods")
    void restoredLearnerContinuesBitForBitWithItsExtraState(MethodConfig method) {
        LearnerConfig config = config(method);
        ViewBatch[] batches = new ViewBatch[4];
        for (int i = 0; i < batches.length; i++) {
            batches[i] = TestBatches.random(200 + i, BATCH, 1, 28);
        }
        Map<String, Tensor> uninterrupted;
        try (Learner learner = Learner.create(config)) {
            for (ViewBatch batch : batches) {
                StepResult r = learner.step(batch);
                assertThat(r.skipped()).isFalse();
                assertThat(r.loss()).isFinite();
            }
            uninterrupted = learner.snapshot().tensors();
        }
        boolean momentumNetwork = method instanceof ByolConfig || method instanceof MocoConfig;
        assertThat(uninterrupted.keySet().stream().anyMatch(k -> k.startsWith(LearnerState.TARGET)))
                .isEqualTo(momentumNetwork);
        assertThat(uninterrupted.keySet().stream().anyMatch(k -> k.startsWith(LearnerState.METHOD)))
                .isEqualTo(method instanceof MocoConfig);

        byte[] checkpoint;
        try (Learner learner = Learner.create(config)) {
            learner.step(batches[0]);
            learner.step(batches[1]);
            checkpoint = LearnerStateCodec.encode(learner.snapshot());
        }
        try (Learner restored = Learner.restore(config, LearnerStateCodec.decode(checkpoint))) {
            restored.step(batches[2]);
            restored.step(batches[3]);
            Map<String, Tensor> resumed = restored.snapshot().tensors();
            assertThat(resumed.keySet()).isEqualTo(uninterrupted.keySet());
            for (String name : uninterrupted.keySet()) {
                assertThat(resumed.get(name).data()).as(name).isEqualTo(uninterrupted.get(name).data());
            }
        }
    }

    @Test
    void byolTargetStartsAsTheOnlineCopyAndFollowsTheEma() {
        LearnerConfig config = config(ByolConfig.paper());
        try (Learner learner = Learner.create(config)) {
            Map<String, Tensor> before = learner.snapshot().tensors();
            learner.step(TestBatches.random(1, BATCH, 1, 28));
            Map<String, Tensor> after = learner.snapshot().tensors();
            double tau = 0.996; // tau at step 0 is the base
            int checked = 0;
            for (String key : after.keySet()) {
                if (!key.startsWith(LearnerState.TARGET) || key.contains("running")) {
                    continue;
                }
                String name = key.substring(LearnerState.TARGET.length());
                float[] t0 = before.get(key).data();
                float[] o0 = before.get(LearnerState.PARAM + name).data();
                float[] o1 = after.get(LearnerState.PARAM + name).data();
                float[] t1 = after.get(key).data();
                assertThat(t0).as("initial copy of " + name).containsExactly(o0);
                for (int i = 0; i < t1.length; i++) {
                    assertThat(t1[i]).isCloseTo((float) (tau * t0[i] + (1 - tau) * o1[i]), within(1e-6f));
                }
                checked++;
            }
            assertThat(checked).isGreaterThan(10);
            assertThat(after.keySet()).noneMatch(k -> k.startsWith(LearnerState.TARGET) && k.contains("predictor"));
        }
    }

    @Test
    void repeatedMomentumUpdatesMatchTheClosedForm() {
        // With the online network fixed, n updates give xi_n = theta + tau^n (xi_0 - theta).
        try (Learner learner = Learner.create(config(ByolConfig.paper()))) {
            learner.step(TestBatches.random(1, BATCH, 1, 28)); // online and target now differ
            SiameseNetwork online = learner.method().online();
            SiameseNetwork target = learner.method().target();
            Map<String, Tensor> start = learner.snapshot().tensors();
            double tau = 0.9;
            int n = 7;
            try (NDScope scope = new NDScope()) {
                JniUtils.setGradMode(false);
                MomentumUpdate ema = new MomentumUpdate(target, online);
                for (int i = 0; i < n; i++) {
                    ema.apply(tau);
                }
            }
            double decay = Math.pow(tau, n);
            for (Pair<String, Parameter> pair : target.getParameters()) {
                if (!MomentumUpdate.isTrainable(pair.getValue())) {
                    continue;
                }
                float[] xi0 = start.get(LearnerState.TARGET + pair.getKey()).data();
                float[] theta = start.get(LearnerState.PARAM + pair.getKey()).data();
                float[] xi = pair.getValue().getArray().toFloatArray();
                for (int i = 0; i < xi.length; i++) {
                    assertThat(xi[i]).isCloseTo((float) (theta[i] + decay * (xi0[i] - theta[i])), within(2e-6f));
                }
            }
        }
    }

    /** The checkpoint's fast path writes exactly the codec's bytes of the full snapshot, names and order included. */
    @ParameterizedTest
    @MethodSource("methods")
    void encodedSnapshotIsTheCodecsEncodingOfTheSnapshot(MethodConfig method) {
        try (Learner learner = Learner.create(config(method))) {
            learner.step(TestBatches.random(1, BATCH, 1, 28));
            learner.step(TestBatches.random(2, BATCH, 1, 28));
            LearnerState state = learner.snapshot();
            EncodedLearnerState encoded = learner.snapshotEncoded();
            assertThat(encoded.header().fingerprint()).isEqualTo(state.fingerprint());
            assertThat(List.of(encoded.step(), encoded.skippedSteps(), encoded.seed()))
                    .isEqualTo(List.of(state.step(), state.skippedSteps(), state.seed()));
            assertThat(encoded.tensors().keySet()).containsExactlyElementsOf(state.tensors().keySet());
            state.tensors().forEach((name, tensor) -> assertThat(encoded.tensors().get(name)).as(name)
                    .isEqualTo(LearnerStateCodec.encodeTensor(tensor)));
            assertThat(encoded.decode().tensors()).isEqualTo(state.tensors());
            int arrays = learner.managedArrayCount();
            learner.snapshotEncoded();
            assertThat(learner.managedArrayCount()).as("no array left behind").isEqualTo(arrays);
            // written into an earlier snapshot's arrays after another step: the same bytes as a fresh one
            EncodedLearnerState earlier = learner.snapshotEncoded();
            learner.step(TestBatches.random(3, BATCH, 1, 28));
            EncodedLearnerState fresh = learner.snapshotEncoded();
            EncodedLearnerState reused = learner.snapshotEncoded(earlier);
            fresh.tensors().forEach((name, bytes) -> assertThat(reused.tensors().get(name)).as(name).isEqualTo(bytes));
            assertThat(reused.tensors().get(state.tensors().keySet().iterator().next()))
                    .isSameAs(earlier.tensors().get(state.tensors().keySet().iterator().next()));
        }
    }

    @Test
    void mocoEnqueuesEachBatchOfKeysInOrderAcrossARestore() {
        LearnerConfig config = config(MocoConfig.smallData().withQueueSize(40)); // 40 = 2.5 batches of 16
        ViewBatch[] batches = {TestBatches.random(1, BATCH, 1, 28), TestBatches.random(2, BATCH, 1, 28),
            TestBatches.random(3, BATCH, 1, 28)};
        try (Learner learner = Learner.create(config)) {
            float[] initial = ((Moco) learner.method()).queue().rows().toFloatArray();
            learner.step(batches[0]);
            learner.step(batches[1]);
            Moco moco = (Moco) learner.method();
            assertThat(moco.queue().pointer()).isEqualTo(32);
            float[] rows = moco.queue().rows().toFloatArray();
            int dim = 128;
            // rows 32..39 are still the initial random keys; rows 0..31 are new unit keys
            for (int i = 32 * dim; i < 40 * dim; i++) {
                assertThat(rows[i]).isEqualTo(initial[i]);
            }
            LearnerState state = learner.snapshot();
            learner.step(batches[2]); // wraps: 8 keys into rows 32..39, 8 into rows 0..7
            float[] uninterrupted = moco.queue().rows().toFloatArray();
            assertThat(moco.queue().pointer()).isEqualTo(8);
            for (int i = 8 * dim; i < 32 * dim; i++) {
                assertThat(uninterrupted[i]).as("keys of the previous batches stay").isEqualTo(rows[i]);
            }

            try (Learner restored = Learner.restore(config, LearnerStateCodec.decode(LearnerStateCodec.encode(state)))) {
                Moco again = (Moco) restored.method();
                assertThat(again.queue().pointer()).isEqualTo(32);
                restored.step(batches[2]);
                assertThat(again.queue().rows().toFloatArray()).containsExactly(uninterrupted);
                assertThat(again.queue().pointer()).isEqualTo(8);
            }
        }
    }

    @Test
    void stateOfOneMethodIsRefusedByAnother() {
        try (Learner byol = Learner.create(config(ByolConfig.paper()))) {
            LearnerState state = byol.snapshot();
            assertThatThrownBy(() -> Learner.restore(config(SimSiamConfig.paper()), state))
                    .hasMessageContaining("different model").hasMessageContaining("byol");
        }
        assertThatThrownBy(() -> MethodConfig.parse("method", "swav"))
                .hasMessageContaining("method").hasMessageContaining("simsiam, byol, simclr, moco");
    }

    @Test
    void larsScalesWeightsByTheTrustRatioAndLeavesBiasesPlain() {
        // w = (3, 4) as a 1 x 2 matrix, gradient g = (1, 0), wd = 0.5: d = g + wd w = (2.5, 2), |w| = 5,
        // |d| = sqrt(10.25), trust = eta |w| / |d|; first step b = trust d; w' = w - lr b.
        // The bias (1-D) with gradient (1, -1) gets neither decay nor adaptation: b' = b - lr g.
        double eta = 0.001;
        double lr = 0.1;
        try (ai.djl.ndarray.NDManager manager = Engines.pyTorch().newBaseManager();
             SgdMomentum lars = new SgdMomentum(manager, 0.9, 0.5, eta)) {
            ai.djl.ndarray.NDArray w = manager.create(new float[] {3, 4}, new ai.djl.ndarray.types.Shape(1, 2));
            ai.djl.ndarray.NDArray b = manager.create(new float[] {1, 2});
            w.setRequiresGradient(true);
            b.setRequiresGradient(true);
            try (ai.djl.training.GradientCollector collector = manager.getEngine().newGradientCollector()) {
                ai.djl.ndarray.NDArray loss = w.mul(manager.create(new float[] {1, 0}, new ai.djl.ndarray.types.Shape(1, 2))).sum()
                        .add(b.mul(manager.create(new float[] {1, -1})).sum());
                collector.backward(loss);
            }
            try (NDScope scope = new NDScope()) {
                JniUtils.setGradMode(false);
                lars.update(List.of(new SgdMomentum.Param("w", w), new SgdMomentum.Param("b", b)), lr);
            }
            double trust = eta * 5 / Math.sqrt(2.5 * 2.5 + 2 * 2);
            assertThat(w.toFloatArray()).containsExactly(
                    new float[] {(float) (3 - lr * trust * 2.5), (float) (4 - lr * trust * 2)}, within(1e-7f));
            assertThat(b.toFloatArray()).containsExactly(new float[] {(float) (1 - lr), (float) (2 + lr)}, within(1e-7f));
        }
    }
}
