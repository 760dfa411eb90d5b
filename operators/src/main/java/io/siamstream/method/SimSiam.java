package io.siamstream.method;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import io.siamstream.model.Encoder;
import io.siamstream.model.HeadConfig;
import io.siamstream.model.Heads;
import io.siamstream.model.SiameseNetwork;

/**
 * SimSiam (Chen and He, "Exploring Simple Siamese Representation Learning", 2021):
 * L = D(p1, sg(z2)) / 2 + D(p2, sg(z1)) / 2 with D the negative cosine similarity, z = g(f(x)), p = h(z), and sg the
 * stop-gradient. No negatives, no momentum encoder.
 */
public final class SimSiam implements SslMethod {

    private final SimSiamConfig config;
    private final SiameseNetwork network;

    public SimSiam(SimSiamConfig config, Encoder encoder, HeadConfig heads) {
        this.config = config;
        this.network = new SiameseNetwork(
                encoder,
                Heads.simSiamProjector(heads),
                config.predictor() ? Heads.simSiamPredictor(heads) : null);
    }

    @Override
    public String name() {
        return "simsiam";
    }

    public SimSiamConfig config() {
        return config;
    }

    @Override
    public SiameseNetwork online() {
        return network;
    }

    @Override
    public Block fixedLrBlock() {
        return config.fixPredictorLr() && config.predictor() ? network.predictor() : null;
    }

    @Override
    public Output forward(ParameterStore store, NDArray view1, NDArray view2) {
        NDArray z1 = network.project(store, network.encode(store, view1, true), true);
        NDArray z2 = network.project(store, network.encode(store, view2, true), true);
        NDArray p1 = config.predictor() ? network.predict(store, z1, true) : z1;
        NDArray p2 = config.predictor() ? network.predict(store, z2, true) : z2;
        NDArray target1 = config.stopGradient() ? z1.stopGradient() : z1;
        NDArray target2 = config.stopGradient() ? z2.stopGradient() : z2;
        NDArray loss = NegativeCosineSimilarity.of(p1, target2)
                .add(NegativeCosineSimilarity.of(p2, target1))
                .mul(0.5f);
        return new Output(loss, z1, p1);
    }
}
