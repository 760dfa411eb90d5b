package io.siamstream.record;

/**
 * A frozen copy of the encoder, published every N steps: version = the training step that produced it, the
 * encoder's parameters and BN statistics as learner-state bytes (LearnerStateCodec), and the step's metrics.
 * A Flink POJO.
 *
 * <p>Where model artifacts are exported, the announcement of a version is this record with {@code uri} (the committed
 * version directory), {@code sha256} and {@code bytes} (of its {@code encoder.safetensors}) set and the weights
 * ({@code encoderState}, {@code headsState}) left out: weights never travel in the announcement stream.
 */
public class ModelUpdate {

    public int replica;
    public long version;
    /** The training step (applied updates) of the weights; equals version. */
    public long step;
    /** The epoch of the last pair trained before publication (-1 where unknown). */
    public long epoch = -1;
    public String fingerprint;
    public byte[] encoderState;
    /** Projector and predictor (learner-state bytes, network names) where they are exported, else null. */
    public byte[] headsState;
    public double loss;
    /** The publishing step's projection std and output std (see StepMetrics). */
    public double projectionStd;
    public double outputStd;
    public long wallTimeMillis;
    /** The committed artifact: its version directory, and the sha256 (hex) and size of its encoder.safetensors. */
    public String uri;
    public String sha256;
    public long bytes;

    public ModelUpdate() {}

    /** A copy of the metadata without the weights: what announcements carry. */
    public ModelUpdate withoutWeights() {
        ModelUpdate u = new ModelUpdate();
        u.replica = replica;
        u.version = version;
        u.step = step;
        u.epoch = epoch;
        u.fingerprint = fingerprint;
        u.loss = loss;
        u.projectionStd = projectionStd;
        u.outputStd = outputStd;
        u.wallTimeMillis = wallTimeMillis;
        u.uri = uri;
        u.sha256 = sha256;
        u.bytes = bytes;
        return u;
    }

    /** The update's metadata as JSON (like the other records' toString); the encoder state only by its size. */
    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT,
                "{\"replica\":%d,\"version\":%d,\"step\":%d,\"epoch\":%d,\"fingerprint\":%s,\"uri\":%s,\"sha256\":%s,"
                        + "\"bytes\":%d,\"encoder_bytes\":%d,\"loss\":%s,\"projection_std\":%s,\"output_std\":%s,"
                        + "\"wall_time_ms\":%d}",
                replica, version, step, epoch, DeadLetter.quote(fingerprint), DeadLetter.quote(uri), DeadLetter.quote(sha256),
                bytes, encoderState == null ? 0 : encoderState.length,
                JsonNumber.of(loss, "%.6f"), JsonNumber.of(projectionStd, "%.6f"), JsonNumber.of(outputStd, "%.6f"), wallTimeMillis);
    }
}
