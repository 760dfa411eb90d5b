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
    /** The publishing step's projection std and output std (see StepMetrics). */
    public double projectionStd;
    public double outputStd;
    public long wallTimeMillis;

    public ModelUpdate() {}

    /** The update's metadata as JSON (like the other records' toString); the encoder state only by its size. */
    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT,
                "{\"replica\":%d,\"version\":%d,\"fingerprint\":%s,\"encoder_bytes\":%d,\"loss\":%s,\"projection_std\":%s,\"output_std\":%s,"
                        + "\"wall_time_ms\":%d}",
                replica, version, DeadLetter.quote(fingerprint), encoderState == null ? 0 : encoderState.length,
                JsonNumber.of(loss, "%.6f"), JsonNumber.of(projectionStd, "%.6f"), JsonNumber.of(outputStd, "%.6f"), wallTimeMillis);
    }
}
