package io.siamstream.method;

import io.siamstream.model.EncoderConfig;
import io.siamstream.model.HeadConfig;

/**
 * BYOL's settings (Grill et al. 2020).
 *
 * @param baseTau the target network's EMA coefficient at step 0; it rises to 1 along a half cosine over the
 *     optimizer's schedule: tau(k) = 1 - (1 - baseTau) (cos(pi k / K) + 1) / 2
 */
public record ByolConfig(double baseTau) implements MethodConfig {

    public ByolConfig {
        if (!(baseTau >= 0 && baseTau <= 1)) {
            throw new IllegalArgumentException("method.byol.base-tau: " + baseTau + " must be in [0, 1]");
        }
    }

    /** The paper's tau_base = 0.996. */
    public static ByolConfig paper() {
        return new ByolConfig(0.996);
    }

    /** tau(k) for {@code progress} = k / K in [0, 1]. */
    public double tauAt(double progress) {
        return 1 - (1 - baseTau) * (Math.cos(Math.PI * progress) + 1) / 2;
    }

    @Override
    public String name() {
        return "byol";
    }

    @Override
    public String fingerprint() {
        return "byol";
    }

    @Override
    public HeadConfig paperHeads() {
        return new HeadConfig(4096, 256, 4096);
    }

    @Override
    public HeadConfig smallHeads() {
        return new HeadConfig(256, 128, 256);
    }

    @Override
    public SslMethod create(EncoderConfig encoder, HeadConfig heads) {
        return new Byol(this, encoder, heads);
    }
}
