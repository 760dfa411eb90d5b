package io.siamstream.method;

import io.siamstream.model.EncoderConfig;
import io.siamstream.model.HeadConfig;
import java.io.Serializable;
import java.util.Locale;

/**
 * The settings of one self-supervised method. The learner, its state codec, the training operator and the evaluation
 * are the same for every method; only this configuration (and the {@link SslMethod} it creates) differs.
 */
public sealed interface MethodConfig extends Serializable
        permits SimSiamConfig, ByolConfig, SimClrConfig, MocoConfig {

    /** The names accepted by {@link #parse}: the value of the {@code method} option. */
    String ALLOWED = "simsiam, byol, simclr, moco";

    /** The method's name, as written in configuration. */
    String name();

    /**
     * The part of the model fingerprint that a saved state must agree on: switches that change which tensors exist
     * or their shapes. Hyper-parameters that may change between runs (temperatures, momenta) are not part of it.
     */
    String fingerprint();

    /** The paper's head widths for this method (on a ResNet-50 / ResNet-18 backbone). */
    HeadConfig paperHeads();

    /** Narrow heads of the same shape for the small test ConvNet (256 wide). */
    HeadConfig smallHeads();

    /** Builds the method's networks (uninitialised) for the given encoder and heads. */
    SslMethod create(EncoderConfig encoder, HeadConfig heads);

    /** The paper's default configuration of the named method. */
    static MethodConfig parse(String option, String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "simsiam" -> SimSiamConfig.paper();
            case "byol" -> ByolConfig.paper();
            case "simclr" -> SimClrConfig.cifar();
            case "moco", "mocov2", "moco-v2" -> MocoConfig.smallData();
            default -> throw new IllegalArgumentException(option + ": '" + value + "' is not a method; allowed: "
                    + ALLOWED);
        };
    }
}
