package io.siamstream.record;

/**
 * A frozen copy of the encoder, published every N steps: version = the training step that produced it, the
 * encoder's parameters and BN statistics as learner-state bytes (LearnerStateCodec), and the step's metrics.
 * A Flink POJO.
 */
public class ModelUpdate {

    public int replica;
    public long version;
    public String fingerprint;
    public byte[] encoderState;
    public double loss;
    public double collapse;
    public long wallTimeMillis;

    public ModelUpdate() {}

    /** The update's metadata as JSON (like the other records' toString); the encoder state only by its size. */
    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT,
                "{\"replica\":%d,\"version\":%d,\"fingerprint\":%s,\"encoder_bytes\":%d,\"loss\":%s,\"collapse\":%s,"
                        + "\"wall_time_ms\":%d}",
                replica, version, DeadLetter.quote(fingerprint), encoderState == null ? 0 : encoderState.length,
                JsonNumber.of(loss, "%.6f"), JsonNumber.of(collapse, "%.6f"), wallTimeMillis);
    }
}
