package io.siamstream.method;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;
import io.siamstream.model.EncoderConfig;
import io.siamstream.model.Encoders;
import io.siamstream.model.HeadConfig;
import io.siamstream.model.Heads;
import io.siamstream.model.SiameseNetwork;

/**
 * BYOL (Grill et al., "Bootstrap Your Own Latent", 2020): an online network (encoder, projector, predictor) predicts
 * the projection that a momentum target network (encoder, projector; an EMA of the online ones) makes of the other
 * view. L = ||p1 - sg(z2')||^2 + ||p2 - sg(z1')||^2 on L2-normalised vectors (the paper's symmetrised loss), with
 * tau rising from tau_base to 1 along a half cosine over the schedule.
 *
 * <p>Heads: projector and predictor are {@link Heads#byolMlp} of width {@code projectorHidden} /
 * {@code predictorHidden} and output {@code projectorOut} (the paper: 4096 / 4096 / 256).
 */
public final class Byol implements SslMethod {

    private final ByolConfig config;
    private final SiameseNetwork online;
    private final SiameseNetwork target;
    private MomentumUpdate ema;
    private FlatLocator flatLocator;

    public Byol(ByolConfig config, EncoderConfig encoder, HeadConfig heads) {
        this.config = config;
        this.online = new SiameseNetwork(
                Encoders.create(encoder),
                Heads.byolMlp(heads.projectorHidden(), heads.projectorOut()),
                Heads.byolMlp(heads.predictorHidden(), heads.projectorOut()));
        this.target = new SiameseNetwork(
                Encoders.create(encoder),
                Heads.byolMlp(heads.projectorHidden(), heads.projectorOut()),
                null);
    }

    @Override
    public String name() {
        return "byol";
    }

    @Override
    public SiameseNetwork online() {
        return online;
    }

    @Override
    public SiameseNetwork target() {
        return target;
    }

    @Override
    public Output forward(ParameterStore store, NDArray view1, NDArray view2) {
        NDArray z1 = online.project(store, online.encode(store, view1, true), true);
        NDArray z2 = online.project(store, online.encode(store, view2, true), true);
        NDArray p1 = online.predict(store, z1, true);
        NDArray p2 = online.predict(store, z2, true);
        NDArray t1 = target.project(store, target.encode(store, view1, true), true).stopGradient();
        NDArray t2 = target.project(store, target.encode(store, view2, true), true).stopGradient();
        NDArray loss = NormalizedMse.of(p1, t2).add(NormalizedMse.of(p2, t1));
        return new Output(loss, z1, p1);
    }

    @Override
    public void useFlatLocator(FlatLocator locator) {
        this.flatLocator = locator;
    }

    @Override
    public void afterUpdate(long step, double progress) {
        if (ema == null) {
            ema = new MomentumUpdate(target, online, flatLocator);
        }
        ema.apply(config.tauAt(progress));
    }
}
