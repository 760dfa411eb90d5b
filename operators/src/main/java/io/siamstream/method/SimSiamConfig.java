package io.siamstream.method;

import io.siamstream.model.EncoderConfig;
import io.siamstream.model.Encoders;
import io.siamstream.model.HeadConfig;

/**
 * SimSiam's switches. The defaults are the paper's method; turning either off reproduces an ablation of the paper
 * (Chen and He 2021, figure 2 and table 1), where the representation collapses.
 *
 * @param stopGradient detach z in D(p, z) (the paper's key ingredient)
 * @param predictor use the prediction MLP h; without it p = z
 * @param fixPredictorLr keep the predictor at the initial learning rate instead of decaying it (the paper's option)
 */
public record SimSiamConfig(boolean stopGradient, boolean predictor, boolean fixPredictorLr) implements MethodConfig {

    public static SimSiamConfig paper() {
        return new SimSiamConfig(true, true, false);
    }

    public SimSiamConfig withoutStopGradient() {
        return new SimSiamConfig(false, predictor, fixPredictorLr);
    }

    public SimSiamConfig withoutPredictor() {
        return new SimSiamConfig(stopGradient, false, fixPredictorLr);
    }

    public SimSiamConfig withFixedPredictorLr() {
        return new SimSiamConfig(stopGradient, predictor, true);
    }

    @Override
    public String name() {
        return "simsiam";
    }

    @Override
    public String fingerprint() {
        return "simsiam(sg=" + stopGradient + ",pred=" + predictor + ")";
    }

    @Override
    public HeadConfig paperHeads() {
        return HeadConfig.simSiamPaper();
    }

    @Override
    public HeadConfig smallHeads() {
        return HeadConfig.small();
    }

    @Override
    public SslMethod create(EncoderConfig encoder, HeadConfig heads) {
        return new SimSiam(this, Encoders.create(encoder), heads);
    }
}
