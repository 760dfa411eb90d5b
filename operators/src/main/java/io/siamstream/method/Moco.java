package io.siamstream.method;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import io.siamstream.model.EncoderConfig;
import io.siamstream.model.Encoders;
import io.siamstream.model.HeadConfig;
import io.siamstream.model.Heads;
import io.siamstream.model.SiameseNetwork;
import io.siamstream.train.Tensor;
import java.util.Map;

/**
 * MoCo v2 (Chen, Fan, Girshick and He, "Improved Baselines with Momentum Contrastive Learning", 2020): a query
 * encoder with an MLP head, a momentum key encoder (EMA with coefficient m), and a queue of K negative keys; InfoNCE
 * with temperature T between the query of view 1, the key of view 2 and the queue, after which the batch's keys are
 * enqueued. Head: {@link Heads#contrastiveMlp} ({@code projectorHidden}, {@code projectorOut} = the key dimension, 128
 * in the paper).
 *
 * <p>On one device the paper's shuffling BN (which hides the batch statistics of the keys from the queries across
 * GPUs) does not apply: queries and keys are two separate forward passes, each normalised over its own batch.
 */
public final class Moco implements SslMethod {

    private final MocoConfig config;
    private final SiameseNetwork query;
    private final SiameseNetwork key;
    private final int keyDim;
    private MomentumUpdate ema;
    private FlatLocator flatLocator;
    private KeyQueue queue;
    private NDArray pendingKeys;

    public Moco(MocoConfig config, EncoderConfig encoder, HeadConfig heads) {
        this.config = config;
        this.keyDim = heads.projectorOut();
        this.query = new SiameseNetwork(Encoders.create(encoder),
                Heads.contrastiveMlp(heads.projectorHidden(), heads.projectorOut()), null);
        this.key = new SiameseNetwork(Encoders.create(encoder),
                Heads.contrastiveMlp(heads.projectorHidden(), heads.projectorOut()), null);
    }

    @Override
    public String name() {
        return "moco";
    }

    @Override
    public SiameseNetwork online() {
        return query;
    }

    @Override
    public SiameseNetwork target() {
        return key;
    }

    /** The queue of negatives (for tests and inspection). */
    public KeyQueue queue() {
        return queue;
    }

    @Override
    public void initState(NDManager manager, long seed, Map<String, Tensor> saved) {
        queue = saved.isEmpty()
                ? KeyQueue.random(manager, config.queueSize(), keyDim, seed)
                : KeyQueue.restore(manager, config.queueSize(), keyDim, saved);
    }

    @Override
    public Map<String, Tensor> saveState() {
        return queue.save();
    }

    @Override
    public Output forward(ParameterStore store, NDArray view1, NDArray view2) {
        NDArray q = query.project(store, query.encode(store, view1, true), true);
        NDArray k = key.project(store, key.encode(store, view2, true), true).stopGradient();
        pendingKeys = k.normalize(2, 1, NegativeCosineSimilarity.EPS);
        return new Output(InfoNce.of(q, k, queue.rows(), config.temperature()), q, q);
    }

    @Override
    public void useFlatLocator(FlatLocator locator) {
        this.flatLocator = locator;
    }

    @Override
    public void afterUpdate(long step, double progress) {
        if (ema == null) {
            ema = new MomentumUpdate(key, query, flatLocator);
        }
        ema.apply(config.momentum());
        queue.enqueue(pendingKeys);
        pendingKeys = null;
    }
}
