package io.siamstream.method;

import io.siamstream.model.EncoderConfig;
import io.siamstream.model.HeadConfig;

/**
 * MoCo v2's settings (Chen, Fan, Girshick and He 2020).
 *
 * @param momentum the key encoder's EMA coefficient m (0.99 on small data, 0.999 on ImageNet)
 * @param queueSize K, the number of negative keys kept (the paper: 65536 on ImageNet; 4096 on CIFAR-size data)
 * @param temperature the InfoNCE temperature (0.2 in v2)
 */
public record MocoConfig(double momentum, int queueSize, double temperature) implements MethodConfig {

    /** The pointer is stored as a float in the learner state, exact below 2^24. */
    public static final int MAX_QUEUE = 1 << 24;

    public MocoConfig {
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException("method.moco.momentum: " + momentum + " must be in [0, 1]");
        }
        if (queueSize < 1 || queueSize > MAX_QUEUE) {
            throw new IllegalArgumentException("method.moco.queue-size: " + queueSize + " must be in [1, "
                    + MAX_QUEUE + "]");
        }
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("method.moco.temperature: " + temperature + " must be > 0");
        }
    }

    /** m = 0.99, K = 4096, T = 0.2: the small-data setting. */
    public static MocoConfig smallData() {
        return new MocoConfig(0.99, 4096, 0.2);
    }

    /** m = 0.999, K = 65536, T = 0.2: the paper's ImageNet setting. */
    public static MocoConfig imageNet() {
        return new MocoConfig(0.999, 65536, 0.2);
    }

    public MocoConfig withQueueSize(int k) {
        return new MocoConfig(momentum, k, temperature);
    }

    @Override
    public String name() {
        return "moco";
    }

    @Override
    public String fingerprint() {
        return "moco(queue=" + queueSize + ")";
    }

    @Override
    public HeadConfig paperHeads() {
        return new HeadConfig(2048, 128, 2048);
    }

    @Override
    public HeadConfig smallHeads() {
        return new HeadConfig(256, 128, 256);
    }

    @Override
    public SslMethod create(EncoderConfig encoder, HeadConfig heads) {
        return new Moco(this, encoder, heads);
    }
}
