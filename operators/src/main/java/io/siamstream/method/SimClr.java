package io.siamstream.method;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;
import io.siamstream.model.Encoder;
import io.siamstream.model.HeadConfig;
import io.siamstream.model.Heads;
import io.siamstream.model.SiameseNetwork;

/**
 * SimCLR (Chen et al., "A Simple Framework for Contrastive Learning of Visual Representations", 2020): both views
 * through one encoder and projection head, NT-Xent over the 2N views of the batch (in-batch negatives), no predictor,
 * no momentum network. Head: {@link Heads#contrastiveMlp} ({@code projectorHidden}, {@code projectorOut}; the paper:
 * 2048, 128); {@code predictorHidden} is unused.
 */
public final class SimClr implements SslMethod {

    private final SimClrConfig config;
    private final SiameseNetwork network;

    public SimClr(SimClrConfig config, Encoder encoder, HeadConfig heads) {
        this.config = config;
        this.network = new SiameseNetwork(encoder,
                Heads.contrastiveMlp(heads.projectorHidden(), heads.projectorOut()), null);
    }

    @Override
    public String name() {
        return "simclr";
    }

    @Override
    public SiameseNetwork online() {
        return network;
    }

    @Override
    public Output forward(ParameterStore store, NDArray view1, NDArray view2) {
        NDArray z1 = network.project(store, network.encode(store, view1, true), true);
        NDArray z2 = network.project(store, network.encode(store, view2, true), true);
        return new Output(NtXent.of(z1, z2, config.temperature()), z1, z1);
    }
}
