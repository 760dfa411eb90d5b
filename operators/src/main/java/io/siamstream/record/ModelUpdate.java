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

    @Override
    public String toString() {
        return "ModelUpdate{replica=" + replica + ", version=" + version + ", " + (encoderState == null ? 0 : encoderState.length)
                + " bytes}";
    }
}
