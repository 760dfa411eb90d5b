package io.siamstream.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import io.siamstream.eval.CollapseIndicator;
import io.siamstream.method.FlatLocator;
import io.siamstream.method.MomentumUpdate;
import io.siamstream.method.SslMethod;
import io.siamstream.model.ParameterInit;
import io.siamstream.model.SiameseNetwork;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Owns a model, its optimizer and its schedule, and trains it one batch of view pairs at a time. The same code runs on
 * the GPU and on the CPU. Every temporary array of a step lives in an {@link NDScope} that is closed when the step
 * ends, so a long run keeps a constant number of live arrays.
 *
 * <p>Not thread-safe: one thread drives a learner. Learners in the same JVM take turns through a JVM-wide lock,
 * because the PyTorch engine allows one gradient collector at a time per JVM.
 */
public final class Learner implements AutoCloseable {

    private static final ReentrantLock AUTOGRAD = new ReentrantLock();
    private static final int EMBED_CHUNK = 512;

    private final LearnerConfig config;
    private final Device device;
    private final NDManager manager;
    private final SslMethod method;
    private final SiameseNetwork network;
    private final SiameseNetwork target;
    private final ParameterStore store;
    private final SgdMomentum optimizer;
    private final LrSchedule schedule;
    /** The trainable parameters with the scheduled lr, and those with a fixed lr (SimSiam's predictor). */
    private final FlatParams scheduled;
    private final FlatParams fixedLr;
    /** The momentum network's averaged parameters (null without one). */
    private final FlatParams targetFlat;
    private final List<NDArray> runningStats = new ArrayList<>();
    private long step;
    private long skipped;

    private Learner(LearnerConfig config, LearnerState state, Device device) {
        Engine engine = Engines.pyTorch();
        NativeAllocator.checkOnce();
        this.config = config;
        DeviceSelection.requireAvailable(device, config.device());
        this.device = device;
        // every array of the learner (parameters, statistics, optimizer buffers, momentum network, queue, and each
        // step's inputs and temporaries) is made by this manager or a sub-manager of it: all on this device
        this.manager = engine.newBaseManager(device);
        this.method = config.method().create(config.encoder(), config.heads());
        this.network = method.online();
        ParameterInit.install(network, state == null
                ? ParameterInit.pytorchDefaults(network, config.seed())
                : valuesFrom(state, LearnerState.PARAM));
        network.initialize(manager, DataType.FLOAT32, inputShape(config.batchSize()));
        // Each optimizer group's parameters become views of one flat buffer (gradients too), before anything keeps
        // their arrays: the target's copies, the EMA, the parameter store.
        Set<Parameter> fixed = Collections.newSetFromMap(new IdentityHashMap<>());
        Block fixedBlock = method.fixedLrBlock();
        if (fixedBlock != null) {
            fixed.addAll(fixedBlock.getParameters().values());
        }
        List<Pair<String, Parameter>> scheduledParams = new ArrayList<>();
        List<Pair<String, Parameter>> fixedLrParams = new ArrayList<>();
        for (Pair<String, Parameter> pair : network.getParameters()) {
            Parameter p = pair.getValue();
            if (p.requiresGradient()) {
                (fixed.contains(p) ? fixedLrParams : scheduledParams).add(pair);
            } else if (p.getType() == Parameter.Type.RUNNING_MEAN || p.getType() == Parameter.Type.RUNNING_VAR) {
                runningStats.add(p.getArray());
            }
        }
        this.scheduled = FlatParams.of(manager, scheduledParams, true);
        this.fixedLr = FlatParams.of(manager, fixedLrParams, true);
        this.target = method.target();
        if (target != null) {
            // The momentum network starts as a copy of the online network's parts it mirrors.
            ParameterInit.install(target, state == null ? copiesOf(network) : valuesFrom(state, LearnerState.TARGET));
            target.initialize(manager, DataType.FLOAT32, inputShape(config.batchSize()));
            target.freezeParameters(true);
            // its averaged tensors in one flat buffer too, so the EMA runs over a few contiguous runs
            List<Pair<String, Parameter>> averaged = new ArrayList<>();
            for (Pair<String, Parameter> pair : target.getParameters()) {
                if (MomentumUpdate.isTrainable(pair.getValue())) {
                    averaged.add(pair);
                }
            }
            this.targetFlat = FlatParams.of(manager, averaged, false);
            Map<NDArray, FlatLocator.Location> locations = new IdentityHashMap<>();
            scheduled.addLocations(locations);
            fixedLr.addLocations(locations);
            targetFlat.addLocations(locations);
            method.useFlatLocator(locations::get);
        } else {
            this.targetFlat = null;
        }
        method.initState(manager, config.seed(), state == null ? Map.of() : state.withPrefix(LearnerState.METHOD));
        this.store = new ParameterStore(manager, false);
        this.optimizer = new SgdMomentum(manager, config.optimizer().momentum(), config.optimizer().weightDecay(),
                config.optimizer().larsTrustCoefficient());
        this.schedule = config.optimizer().schedule(config.batchSize());

        optimizer.register(scheduled);
        optimizer.register(fixedLr);
        if (target != null) {
            for (Parameter p : target.getParameters().values()) {
                if (!MomentumUpdate.isTrainable(p)) {
                    runningStats.add(p.getArray());
                }
            }
        }
        if (state != null) {
            restoreOptimizer(state);
            this.step = state.step();
            this.skipped = state.skippedSteps();
        }
    }

    /**
     * A learner with freshly initialised parameters drawn from the configured seed, on the device that the configured
     * option resolves to without runtime-assigned GPUs ({@link DeviceSelection#resolve(String)}).
     */
    public static Learner create(LearnerConfig config) {
        return create(config, DeviceSelection.resolve(config.device()));
    }

    /**
     * A learner on {@code device}, decided by the caller ({@link DeviceSelection#resolve(String, java.util.List)}
     * with the GPUs the runtime assigned). Fails with a clear message when the engine cannot use the device.
     */
    public static Learner create(LearnerConfig config, Device device) {
        return new Learner(config, null, device);
    }

    /**
     * A learner that continues from {@code state}. The state must come from the same model (method, encoder, heads,
     * input shape); batch size, optimizer settings and device may differ.
     */
    public static Learner restore(LearnerConfig config, LearnerState state) {
        return restore(config, state, DeviceSelection.resolve(config.device()));
    }

    /** {@link #restore(LearnerConfig, LearnerState)} onto {@code device} (see {@link #create(LearnerConfig, Device)}). */
    public static Learner restore(LearnerConfig config, LearnerState state, Device device) {
        if (!config.modelFingerprint().equals(state.fingerprint())) {
            throw new IllegalStateException("the saved learner state belongs to a different model: saved '"
                    + state.fingerprint() + "', configured '" + config.modelFingerprint() + "'");
        }
        return new Learner(config, state, device);
    }

    private static ParameterInit.Values copiesOf(SiameseNetwork online) {
        Map<String, Parameter> byName = online.getParameters().toMap();
        return (manager, name, parameter, shape) -> {
            Parameter source = byName.get(name);
            if (source == null || !source.getArray().getShape().equals(shape)) {
                throw new IllegalStateException("momentum network parameter " + name + " " + shape
                        + " has no online counterpart of that shape");
            }
            return source.getArray().duplicate();
        };
    }

    private static ParameterInit.Values valuesFrom(LearnerState state, String prefix) {
        return (manager, name, parameter, shape) -> {
            Tensor t = state.tensors().get(prefix + name);
            if (t == null) {
                throw new IllegalStateException("the saved learner state has no value for " + prefix + name);
            }
            if (!new Shape(t.shape()).equals(shape)) {
                throw new IllegalStateException("parameter " + name + " has shape " + shape
                        + " but the saved value has " + new Shape(t.shape()));
            }
            return manager.create(t.data(), shape);
        };
    }

    private void restoreOptimizer(LearnerState state) {
        Set<String> names = new java.util.HashSet<>();
        scheduled.params().forEach(p -> names.add(p.name()));
        fixedLr.params().forEach(p -> names.add(p.name()));
        for (Map.Entry<String, Tensor> entry : state.tensors().entrySet()) {
            if (entry.getKey().startsWith(LearnerState.MOMENTUM)) {
                String name = entry.getKey().substring(LearnerState.MOMENTUM.length());
                if (!names.contains(name)) {
                    throw new IllegalStateException("the saved learner state has a momentum buffer for "
                            + name + ", which is not a trainable parameter of this model");
                }
                optimizer.restoreBuffer(name, entry.getValue());
            }
        }
    }

    private Shape inputShape(long n) {
        return new Shape(n, config.imageChannels(), config.imageSize(), config.imageSize());
    }

    /** Trains on one batch: forward both views, backward, one SGD update. Skips (and counts) a non-finite loss. */
    public StepResult step(ViewBatch batch) {
        if (batch.channels() != config.imageChannels() || batch.height() != config.imageSize()
                || batch.width() != config.imageSize()) {
            throw new IllegalArgumentException("batch of " + batch.channels() + "x" + batch.height() + "x"
                    + batch.width() + " views does not fit the model's input " + inputShape(batch.size()));
        }
        long start = System.nanoTime();
        AUTOGRAD.lock();
        try (NDScope scope = new NDScope()) {
            Shape shape = inputShape(batch.size());
            NDArray view1 = manager.create(batch.view1(), shape);
            NDArray view2 = manager.create(batch.view2(), shape);
            List<NDArray> statsBefore = new ArrayList<>(runningStats.size());
            for (NDArray stat : runningStats) {
                statsBefore.add(stat.duplicate());
            }
            double lr = schedule.lrAt(step);
            SslMethod.Output out;
            double loss;
            try (GradientCollector collector = manager.getEngine().newGradientCollector()) {
                out = method.forward(store, view1, view2);
                loss = out.loss().getFloat();
                if (Double.isFinite(loss)) {
                    collector.backward(out.loss());
                }
            }
            JniUtils.setGradMode(false);
            if (!Double.isFinite(loss)) {
                for (int i = 0; i < runningStats.size(); i++) {
                    runningStats.get(i).set(statsBefore.get(i).toByteBuffer());
                }
                scheduled.zeroGradients();
                fixedLr.zeroGradients();
                skipped++;
                return new StepResult(step, loss, true, Double.NaN, Double.NaN,
                        CollapseIndicator.reference(config.heads().projectorOut()), lr, millisSince(start));
            }
            optimizer.update(scheduled, lr);
            optimizer.update(fixedLr, schedule.peakLr());
            method.afterUpdate(step, schedule.progress(step));
            double projectionStd = CollapseIndicator.of(out.projection().stopGradient());
            double outputStd = out.output() == out.projection()
                    ? projectionStd : CollapseIndicator.of(out.output().stopGradient());
            step++;
            return new StepResult(step, loss, false, projectionStd, outputStd,
                    CollapseIndicator.reference(config.heads().projectorOut()), lr, millisSince(start));
        } finally {
            AUTOGRAD.unlock();
        }
    }

    /**
     * Trains on the pairs of a closed batch (in their order), or consumes it with {@link #skipBatch} when fewer than
     * two survived: the one rule of the job's trainer and of the reference loop.
     */
    public StepResult step(java.util.List<io.siamstream.record.ViewPair> pairs) {
        return pairs.size() < 2 ? skipBatch() : step(ViewBatch.of(pairs));
    }

    /**
     * Consumes a batch without an update, because too few of its pairs survived (batch norm needs two): counted with
     * the skipped steps, so the batch position (steps + skipped steps) moves on as for any other batch.
     */
    public StepResult skipBatch() {
        skipped++;
        return new StepResult(step, Double.NaN, true, Double.NaN, Double.NaN,
                CollapseIndicator.reference(config.heads().projectorOut()), schedule.lrAt(step), 0);
    }

    private static double millisSince(long start) {
        return (System.nanoTime() - start) / 1e6;
    }

    /**
     * Encoder features of {@code n} images (N x C x H x W floats) in inference mode (batch norm uses its running
     * statistics); returns N x {@link #featureDim()} floats.
     */
    public float[] embed(float[] images, int n) {
        int perImage = config.imageChannels() * config.imageSize() * config.imageSize();
        if ((long) n * perImage != images.length) {
            throw new IllegalArgumentException(images.length + " values are not " + n + " images of " + perImage);
        }
        float[] features = new float[n * featureDim()];
        JniUtils.setGradMode(false);
        for (int from = 0; from < n; from += EMBED_CHUNK) {
            // one scope per chunk, so a large bank never holds every chunk's activations at once
            try (NDScope scope = new NDScope()) {
                int count = Math.min(EMBED_CHUNK, n - from);
                float[] chunk = java.util.Arrays.copyOfRange(images, from * perImage, (from + count) * perImage);
                NDArray x = manager.create(chunk, inputShape(count));
                float[] y = network.encode(store, x, false).toFloatArray();
                System.arraycopy(y, 0, features, from * featureDim(), y.length);
            }
        }
        return features;
    }

    /**
     * Everything needed to continue exactly: parameters, BN statistics, the optimizer's buffers, the momentum
     * network and the method's extra state (MoCo's queue), and the step.
     */
    public LearnerState snapshot() {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Pair<String, Parameter> pair : network.getParameters()) {
            tensors.put(LearnerState.PARAM + pair.getKey(), toTensor(pair.getValue().getArray()));
        }
        for (Map.Entry<String, NDArray> entry : optimizer.buffers().entrySet()) {
            tensors.put(LearnerState.MOMENTUM + entry.getKey(), toTensor(entry.getValue()));
        }
        if (target != null) {
            for (Pair<String, Parameter> pair : target.getParameters()) {
                tensors.put(LearnerState.TARGET + pair.getKey(), toTensor(pair.getValue().getArray()));
            }
        }
        for (Map.Entry<String, Tensor> entry : method.saveState().entrySet()) {
            tensors.put(LearnerState.METHOD + entry.getKey(), entry.getValue());
        }
        return new LearnerState(config.modelFingerprint(), step, skipped, config.seed(), tensors);
    }

    /**
     * What {@link #snapshot()} holds, each tensor already in the codec's bytes ({@link LearnerStateCodec#encodeTensor}):
     * one copy per tensor straight out of the engine's memory, for a checkpoint that holds the training thread only
     * as long as that copy takes. Same names, order and bytes as encoding {@link #snapshot()}'s tensors.
     */
    public EncodedLearnerState snapshotEncoded() {
        return snapshotEncoded(null);
    }

    /**
     * As {@link #snapshotEncoded()}, writing into the arrays of {@code reuse} (an earlier snapshot of this learner
     * that nobody reads any more) where a tensor's array has the right length.
     */
    public EncodedLearnerState snapshotEncoded(EncodedLearnerState reuse) {
        Map<String, byte[]> old = reuse == null ? Map.of() : reuse.tensors();
        Map<String, byte[]> tensors = new LinkedHashMap<>();
        // a non-contiguous array or one on a GPU is copied to a contiguous CPU array first: the scope closes it
        try (NDScope scope = new NDScope()) {
            for (Pair<String, Parameter> pair : network.getParameters()) {
                String name = LearnerState.PARAM + pair.getKey();
                tensors.put(name, encode(pair.getValue().getArray(), old.get(name)));
            }
            for (Map.Entry<String, NDArray> entry : optimizer.buffers().entrySet()) {
                String name = LearnerState.MOMENTUM + entry.getKey();
                tensors.put(name, encode(entry.getValue(), old.get(name)));
            }
            if (target != null) {
                for (Pair<String, Parameter> pair : target.getParameters()) {
                    String name = LearnerState.TARGET + pair.getKey();
                    tensors.put(name, encode(pair.getValue().getArray(), old.get(name)));
                }
            }
            scope.suppressNotUsedWarning();
        }
        for (Map.Entry<String, Tensor> entry : method.saveState().entrySet()) {
            tensors.put(LearnerState.METHOD + entry.getKey(), LearnerStateCodec.encodeTensor(entry.getValue()));
        }
        return new EncodedLearnerState(config.modelFingerprint(), step, skipped, config.seed(), tensors);
    }

    private static byte[] encode(NDArray array, byte[] into) {
        if (array.getDataType() != DataType.FLOAT32) {
            return LearnerStateCodec.encodeTensor(toTensor(array));
        }
        // a view of the array's memory (no copy): the codec copies it once into its byte array
        return LearnerStateCodec.encodeTensor(array.getShape().getShape(), array.toByteBuffer(true), into);
    }

    /** The prefix of the encoder's parameters inside the network. */
    public static final String ENCODER_PREFIX = "01encoder_";

    /**
     * The encoder alone (parameters and BN statistics, keyed {@code param/<name inside the encoder>}): what model
     * updates carry to evaluation and to embedding. Step and fingerprint are those of the learner.
     */
    public LearnerState encoderSnapshot() {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Pair<String, Parameter> pair : network.getParameters()) {
            if (pair.getKey().startsWith(ENCODER_PREFIX)) {
                tensors.put(LearnerState.PARAM + pair.getKey().substring(ENCODER_PREFIX.length()),
                        toTensor(pair.getValue().getArray()));
            }
        }
        return new LearnerState(config.modelFingerprint(), step, skipped, config.seed(), tensors);
    }

    private static Tensor toTensor(NDArray array) {
        return new Tensor(array.getShape().getShape(), array.toFloatArray());
    }

    /** The method being trained (for inspection of its extra state in tests). */
    public SslMethod method() {
        return method;
    }

    public LearnerConfig config() {
        return config;
    }

    public Device device() {
        return device;
    }

    /** The learner's base manager, on {@link #device()}: every array of the learner lives in it or below it (tests). */
    NDManager manager() {
        return manager;
    }

    /** Completed (applied) steps. */
    public long steps() {
        return step;
    }

    /** Batches consumed without an update: the loss was not finite, or too few pairs survived. */
    public long skippedSteps() {
        return skipped;
    }

    public int featureDim() {
        return network.featureDim();
    }

    /** Number of trainable scalars (weights, biases, BN scales and shifts). */
    public long trainableParameterCount() {
        long n = 0;
        for (Parameter p : network.getParameters().values()) {
            if (p.requiresGradient()) {
                n += p.getArray().getShape().size();
            }
        }
        return n;
    }

    /** Live native arrays owned by this learner (parameters, statistics, buffers): constant over a run. */
    public int managedArrayCount() {
        return manager.getManagedArrays().size();
    }

    @Override
    public void close() {
        optimizer.close();
        scheduled.close();
        fixedLr.close();
        if (targetFlat != null) {
            targetFlat.close();
        }
        manager.close();
    }
}
