package io.siamstream.method;

import io.siamstream.model.EncoderConfig;
import io.siamstream.model.Encoders;
import io.siamstream.model.HeadConfig;

/**
 * SimCLR's settings (Chen et al. 2020).
 *
 * @param temperature the NT-Xent temperature (the paper: 0.5 for CIFAR-10, 0.1 at large batch on ImageNet)
 */
public record SimClrConfig(double temperature) implements MethodConfig {

    public SimClrConfig {
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("method.simclr.temperature: " + temperature + " must be > 0");
        }
    }

    /** Temperature 0.5, the paper's CIFAR-10 setting. */
    public static SimClrConfig cifar() {
        return new SimClrConfig(0.5);
    }

    @Override
    public String name() {
        return "simclr";
    }

    @Override
    public String fingerprint() {
        return "simclr";
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
        return new SimClr(this, Encoders.create(encoder), heads);
    }
}
