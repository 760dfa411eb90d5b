package io.siamstream.eval;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import io.siamstream.model.EncoderConfig;
import io.siamstream.model.Encoders;
import io.siamstream.model.ParameterInit;
import io.siamstream.train.DeviceSelection;
import io.siamstream.train.Engines;
import io.siamstream.train.LearnerState;
import io.siamstream.train.Tensor;
import java.util.Arrays;

/**
 * An encoder rebuilt from a snapshot ({@code Learner#encoderSnapshot}) and used for inference only: evaluation and
 * embedding run on such a copy, never on the trainer's live model. Batch norm uses its running statistics.
 *
 * <p>It lives on the device it is given: the caller resolves it with {@link DeviceSelection} (in Flink, with the
 * GPUs of the TaskManager's external resource {@code gpu}), by the same rule as the trainer. Images go to the device
 * chunk by chunk, features come back to the host as floats.
 */
public final class FrozenEncoder implements AutoCloseable {

    private static final int CHUNK = 512;

    private final Device device;
    private final NDManager manager;
    private final Block encoder;
    private final ParameterStore store;
    private final int channels;
    private final int size;
    private final int featureDim;
    private final long version;

    /** On the engine's default device (its first GPU when it finds one, else the CPU), as {@code auto} outside Flink. */
    public FrozenEncoder(EncoderConfig config, int size, LearnerState snapshot) {
        this(config, size, snapshot, DeviceSelection.resolve("auto"));
    }

    public FrozenEncoder(EncoderConfig config, int size, LearnerState snapshot, Device device) {
        DeviceSelection.requireAvailable(device, null);
        this.device = device;
        this.manager = Engines.pyTorch().newBaseManager(device);
        var built = Encoders.create(config);
        this.encoder = built.block();
        this.featureDim = built.featureDim();
        this.channels = config.inChannels();
        this.size = size;
        this.version = snapshot.step();
        ParameterInit.install(encoder, (m, name, parameter, shape) -> {
            Tensor t = snapshot.tensors().get(LearnerState.PARAM + name);
            if (t == null || !new Shape(t.shape()).equals(shape)) {
                throw new IllegalStateException("the encoder snapshot has no value of shape " + shape + " for " + name);
            }
            return m.create(t.data(), shape);
        });
        try {
            encoder.initialize(manager, DataType.FLOAT32, new Shape(1, channels, size, size));
        } catch (RuntimeException e) {
            manager.close();  // a snapshot that does not fit leaves no arrays behind
            throw e;
        }
        this.store = new ParameterStore(manager, false);
    }

    /** The device the encoder's weights and each chunk's activations are on. */
    public Device device() {
        return device;
    }

    /** The training step that produced the weights. */
    public long version() {
        return version;
    }

    public int featureDim() {
        return featureDim;
    }

    /** Features of n normalised images (N x C x H x W floats): N x featureDim floats. */
    public float[] embed(float[] images, int n) {
        int per = channels * size * size;
        if ((long) n * per != images.length) {
            throw new IllegalArgumentException(images.length + " values are not " + n + " images of " + per);
        }
        float[] out = new float[n * featureDim];
        JniUtils.setGradMode(false);
        for (int from = 0; from < n; from += CHUNK) {
            // one scope per chunk: a 60,000-image bank must not keep every chunk's activations alive at once
            try (NDScope scope = new NDScope()) {
                int count = Math.min(CHUNK, n - from);
                NDArray x = manager.create(Arrays.copyOfRange(images, from * per, (from + count) * per),
                        new Shape(count, channels, size, size));
                float[] y = encoder.forward(store, new NDList(x), false).singletonOrThrow().toFloatArray();
                System.arraycopy(y, 0, out, from * featureDim, y.length);
            }
        }
        return out;
    }

    @Override
    public void close() {
        manager.close();
    }
}
