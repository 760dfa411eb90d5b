package io.siamstream.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import io.siamstream.method.SslMethod;
import io.siamstream.model.ParameterInit;
import io.siamstream.model.SiameseNetwork;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The flat update (parameters, gradients and momentum buffers as views of flat buffers) against the loose
 * per-parameter update: bit for bit over several steps, for SGD with and without weight decay or momentum and for LARS,
 * and across a full or partial restore of the momentum buffers.
 */
class FlatSgdTest {

    private static final LearnerConfig CONFIG = LearnerConfig.smallConvNet(16, 100, 7);
    private static final Shape INPUT = new Shape(16, 1, 28, 28);
    private static final double[] LRS = {0.05, 0.04, 0.03, 0.02, 0.01};

    /** The ConvNet with SimSiam heads, its parameters drawn from the seed, or taken from {@code values}. */
    private static final class Model implements AutoCloseable {
        final NDManager manager = Engines.pyTorch().newBaseManager();
        final SslMethod method = CONFIG.method().create(CONFIG.encoder(), CONFIG.heads());
        final SiameseNetwork network = method.online();
        final ParameterStore store = new ParameterStore(manager, false);
        final List<Pair<String, Parameter>> trainable = new ArrayList<>();

        Model(Map<String, Tensor> values) {
            ParameterInit.install(network, values == null ? ParameterInit.pytorchDefaults(network, 7)
                    : (m, name, parameter, shape) -> m.create(values.get(name).data(), shape));
            network.initialize(manager, DataType.FLOAT32, INPUT);
            for (Pair<String, Parameter> pair : network.getParameters()) {
                if (pair.getValue().requiresGradient()) {
                    trainable.add(pair);
                }
            }
        }

        List<SgdMomentum.Param> params() {
            List<SgdMomentum.Param> params = new ArrayList<>();
            trainable.forEach(p -> params.add(new SgdMomentum.Param(p.getKey(), p.getValue().getArray())));
            return params;
        }

        void backward(ViewBatch batch) {
            try (NDScope scope = new NDScope();
                 GradientCollector collector = manager.getEngine().newGradientCollector()) {
                NDArray v1 = manager.create(batch.view1(), INPUT);
                NDArray v2 = manager.create(batch.view2(), INPUT);
                collector.backward(method.forward(store, v1, v2).loss());
            }
            JniUtils.setGradMode(false);
        }

        Map<String, Tensor> values() {
            Map<String, Tensor> values = new LinkedHashMap<>();
            for (Pair<String, Parameter> pair : network.getParameters()) {
                values.put(pair.getKey(), tensor(pair.getValue().getArray()));
            }
            return values;
        }

        @Override
        public void close() {
            manager.close();
        }
    }

    private static Tensor tensor(NDArray array) {
        return new Tensor(array.getShape().getShape(), array.toFloatArray());
    }

    private static Map<String, Tensor> tensors(Map<String, NDArray> arrays) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        arrays.forEach((name, array) -> tensors.put(name, tensor(array)));
        return tensors;
    }

    private static void assertSameBits(Map<String, Tensor> actual, Map<String, Tensor> expected) {
        assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
        for (String name : expected.keySet()) {
            assertThat(actual.get(name).shape()).as(name).isEqualTo(expected.get(name).shape());
            // float[] equality compares floatToIntBits: bit for bit
            assertThat(actual.get(name).data()).as(name).isEqualTo(expected.get(name).data());
        }
    }

    /**
     * Steps {@code from} to the last of {@link #LRS}: the same batch (seed {@code seed} + step) through both models,
     * the per-parameter update on {@code loose} and the flat one on {@code flat}, then the same bits in both models'
     * parameters and both optimizers' momentum buffers.
     */
    private static void stepBothAndCompare(Model loose, SgdMomentum reference, Model flat, SgdMomentum optimizer,
                                           FlatParams group, int seed, int from) {
        for (int step = from; step < LRS.length; step++) {
            ViewBatch batch = TestBatches.random(seed + step, 16, 1, 28);
            loose.backward(batch);
            flat.backward(batch);
            try (NDScope scope = new NDScope()) {
                reference.update(loose.params(), LRS[step]);
                optimizer.update(group, LRS[step]);
            }
            assertSameBits(flat.values(), loose.values());
            assertSameBits(tensors(optimizer.buffers()), tensors(reference.buffers()));
        }
    }

    static Stream<Arguments> settings() {
        return Stream.of(
                Arguments.of("sgd momentum, no weight decay", 0.9, 0.0, 0.0),
                Arguments.of("sgd momentum and weight decay", 0.9, 5e-4, 0.0),
                Arguments.of("sgd without momentum", 0.0, 5e-4, 0.0),
                Arguments.of("lars", 0.9, 0.01, 0.02),
                Arguments.of("lars without momentum", 0.0, 0.01, 0.02));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("settings")
    void flatUpdateEqualsPerParameterUpdateBitForBit(String label, double momentum, double weightDecay, double eta) {
        try (Model loose = new Model(null); Model flat = new Model(null);
             SgdMomentum reference = new SgdMomentum(loose.manager, momentum, weightDecay, eta);
             SgdMomentum optimizer = new SgdMomentum(flat.manager, momentum, weightDecay, eta);
             FlatParams group = FlatParams.of(flat.manager, flat.trainable, true)) {
            assertSameBits(flat.values(), loose.values());
            stepBothAndCompare(loose, reference, flat, optimizer, group, 40, 0);
            assertThat(group.grads().toFloatArray()).as("gradients zeroed").containsOnly(0f);
            if (momentum > 0) {
                assertThat(optimizer.buffers()).hasSize(flat.trainable.size());
            }
        }
    }

    @Test
    void restoredBuffersAreViewsOfTheFlatBufferAndContinueBitForBit() {
        double momentum = 0.9;
        double weightDecay = 5e-4;
        try (Model loose = new Model(null);
             SgdMomentum reference = new SgdMomentum(loose.manager, momentum, weightDecay, 0)) {
            Map<String, Tensor> savedValues;
            Map<String, Tensor> savedBuffers;
            try (Model flat = new Model(null);
                 SgdMomentum optimizer = new SgdMomentum(flat.manager, momentum, weightDecay, 0);
                 FlatParams group = FlatParams.of(flat.manager, flat.trainable, true)) {
                for (int step = 0; step < 2; step++) {
                    ViewBatch batch = TestBatches.random(70 + step, 16, 1, 28);
                    loose.backward(batch);
                    flat.backward(batch);
                    try (NDScope scope = new NDScope()) {
                        reference.update(loose.params(), LRS[step]);
                        optimizer.update(group, LRS[step]);
                    }
                }
                savedValues = flat.values();
                savedBuffers = tensors(optimizer.buffers());
            }
            try (Model restored = new Model(savedValues);
                 SgdMomentum optimizer = new SgdMomentum(restored.manager, momentum, weightDecay, 0);
                 FlatParams group = FlatParams.of(restored.manager, restored.trainable, true)) {
                optimizer.register(group);
                savedBuffers.forEach(optimizer::restoreBuffer);
                assertSameBits(tensors(optimizer.buffers()), savedBuffers);
                Map<String, NDArray> views = new LinkedHashMap<>(optimizer.buffers());
                // restoring again copies into the same views
                savedBuffers.forEach(optimizer::restoreBuffer);
                views.forEach((name, view) -> assertThat(optimizer.buffers().get(name)).as(name).isSameAs(view));
                // the per-name buffers compared are the views the flat update wrote through
                stepBothAndCompare(loose, reference, restored, optimizer, group, 70, 2);
                views.forEach((name, view) -> assertThat(optimizer.buffers().get(name)).as(name).isSameAs(view));
            }
        }
    }

    /**
     * A state whose momentum buffers cover only some parameters (every other one here) restores into views of the flat
     * buffer; the first update then starts the missing buffers from the gradient, as the per-parameter update does for
     * a parameter without a buffer, and keeps the others.
     */
    @Test
    void partiallyRestoredBuffersContinueAsThePerParameterUpdateBitForBit() {
        double momentum = 0.9;
        double weightDecay = 5e-4;
        Map<String, Tensor> savedValues;
        Map<String, Tensor> partial = new LinkedHashMap<>();
        try (Model trained = new Model(null);
             SgdMomentum optimizer = new SgdMomentum(trained.manager, momentum, weightDecay, 0)) {
            for (int step = 0; step < 2; step++) {
                trained.backward(TestBatches.random(90 + step, 16, 1, 28));
                try (NDScope scope = new NDScope()) {
                    optimizer.update(trained.params(), LRS[step]);
                }
            }
            savedValues = trained.values();
            int i = 0;
            for (Map.Entry<String, Tensor> entry : tensors(optimizer.buffers()).entrySet()) {
                if (i++ % 2 == 0) {
                    partial.put(entry.getKey(), entry.getValue());
                }
            }
        }
        assertThat(partial).hasSizeGreaterThan(1);
        try (Model loose = new Model(savedValues); Model flat = new Model(savedValues);
             SgdMomentum reference = new SgdMomentum(loose.manager, momentum, weightDecay, 0);
             SgdMomentum optimizer = new SgdMomentum(flat.manager, momentum, weightDecay, 0);
             FlatParams group = FlatParams.of(flat.manager, flat.trainable, true)) {
            optimizer.register(group);
            partial.forEach(reference::restoreBuffer);
            partial.forEach(optimizer::restoreBuffer);
            assertThat(optimizer.buffers()).as("only the restored buffers").hasSize(partial.size());
            assertSameBits(tensors(optimizer.buffers()), partial);
            stepBothAndCompare(loose, reference, flat, optimizer, group, 90, 2);
            assertThat(optimizer.buffers()).as("every buffer after an update").hasSize(flat.trainable.size());
        }
    }

    @Test
    void parametersAndGradientsAreViewsOfTheFlatBuffers() {
        try (Model model = new Model(null); FlatParams group = FlatParams.of(model.manager, model.trainable, true)) {
            assertThat(group.params()).hasSize(model.trainable.size());
            long total = 0;
            for (int i = 0; i < group.params().size(); i++) {
                Parameter parameter = model.trainable.get(i).getValue();
                assertThat(parameter.getArray()).isSameAs(group.params().get(i).value());
                assertThat(parameter.getArray().hasGradient()).isTrue();
                total += parameter.getArray().size();
            }
            assertThat(group.size()).isEqualTo(total);
            model.backward(TestBatches.random(1, 16, 1, 28));
            float[] flatGrads = group.grads().toFloatArray();
            assertThat(flatGrads).as("backward wrote into the flat gradient buffer").isNotEqualTo(new float[flatGrads.length]);
            for (int i = 0; i < group.params().size(); i++) {
                NDArray view = group.params().get(i).value();
                float[] expected = java.util.Arrays.copyOfRange(flatGrads, (int) group.offset(i),
                        (int) (group.offset(i) + group.size(i)));
                assertThat(view.getGradient().toFloatArray()).as(group.params().get(i).name()).isEqualTo(expected);
            }
            group.zeroGradients();
            assertThat(model.trainable.get(0).getValue().getArray().getGradient().toFloatArray()).containsOnly(0f);
        }
    }

    @Test
    void emaOverFlatRunsEqualsPerTensorEmaBitForBit() {
        LearnerConfig byol = LearnerConfig.smallConvNet(io.siamstream.method.ByolConfig.paper(), 16, 4, 7);
        List<SslMethod> methods = new ArrayList<>();
        try (NDManager manager = Engines.pyTorch().newBaseManager()) {
            List<Map<String, Tensor>> targets = new ArrayList<>();
            int[] sizes = new int[2];
            for (boolean flat : new boolean[] {false, true}) {
                SslMethod method = byol.method().create(byol.encoder(), byol.heads());
                methods.add(method);
                SiameseNetwork online = method.online();
                SiameseNetwork target = method.target();
                for (SiameseNetwork network : List.of(online, target)) {
                    ParameterInit.install(network, ParameterInit.pytorchDefaults(network, 7));
                    network.initialize(manager, DataType.FLOAT32, INPUT);
                }
                List<Pair<String, Parameter>> onlineParams = new ArrayList<>();
                List<Pair<String, Parameter>> targetParams = new ArrayList<>();
                online.getParameters().forEach(p -> {
                    if (p.getValue().requiresGradient()) {
                        onlineParams.add(p);
                    }
                });
                target.getParameters().forEach(p -> {
                    if (io.siamstream.method.MomentumUpdate.isTrainable(p.getValue())) {
                        targetParams.add(p);
                    }
                });
                io.siamstream.method.MomentumUpdate ema;
                if (flat) {
                    FlatParams onlineFlat = FlatParams.of(manager, onlineParams, true);
                    FlatParams targetFlat = FlatParams.of(manager, targetParams, false);
                    Map<NDArray, io.siamstream.method.FlatLocator.Location> locations =
                            new java.util.IdentityHashMap<>();
                    onlineFlat.addLocations(locations);
                    targetFlat.addLocations(locations);
                    ema = new io.siamstream.method.MomentumUpdate(target, online, locations::get);
                    onlineFlat.values().muli(1.5f);
                } else {
                    ema = new io.siamstream.method.MomentumUpdate(target, online);
                    onlineParams.forEach(p -> p.getValue().getArray().muli(1.5f));
                }
                sizes[flat ? 1 : 0] = ema.size();
                JniUtils.setGradMode(false);
                for (double tau : new double[] {0.99, 0.996, 0.9}) {
                    try (NDScope scope = new NDScope()) {
                        ema.apply(tau);
                    }
                }
                Map<String, Tensor> values = new LinkedHashMap<>();
                target.getParameters().forEach(p -> values.put(p.getKey(), tensor(p.getValue().getArray())));
                targets.add(values);
            }
            assertSameBits(targets.get(1), targets.get(0));
            assertThat(sizes[0]).as("tensors").isGreaterThan(10);
            assertThat(sizes[1]).as("runs: weights, then biases and BN parameters").isEqualTo(2);
        }
    }
}
