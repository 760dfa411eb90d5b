package io.siamstream.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * One branch of a siamese method: encoder f, projector g and, on the online branch of SimSiam and BYOL, predictor h.
 * {@link #forward} alone returns the encoder's features (what evaluation and embedding use); the methods call
 * {@link #project} and {@link #predict} explicitly.
 */
public final class SiameseNetwork extends AbstractBlock {

    private static final byte VERSION = 1;

    private final Block encoder;
    private final Block projector;
    private final Block predictor;
    private final int featureDim;

    public SiameseNetwork(Encoder encoder, Block projector, Block predictor) {
        super(VERSION);
        this.encoder = addChildBlock("encoder", encoder.block());
        this.projector = addChildBlock("projector", projector);
        this.predictor = predictor == null ? null : addChildBlock("predictor", predictor);
        this.featureDim = encoder.featureDim();
    }

    public Block encoder() {
        return encoder;
    }

    /** The predictor h, or null on a branch without one. */
    public Block predictor() {
        return predictor;
    }

    public boolean hasPredictor() {
        return predictor != null;
    }

    public int featureDim() {
        return featureDim;
    }

    /** Encoder features y = f(x). */
    public NDArray encode(ParameterStore store, NDArray images, boolean training) {
        return encoder.forward(store, new NDList(images), training).singletonOrThrow();
    }

    /** Projection z = g(y). */
    public NDArray project(ParameterStore store, NDArray features, boolean training) {
        return projector.forward(store, new NDList(features), training).singletonOrThrow();
    }

    /** Prediction p = h(z). */
    public NDArray predict(ParameterStore store, NDArray projection, boolean training) {
        if (predictor == null) {
            throw new IllegalStateException("this network has no predictor");
        }
        return predictor.forward(store, new NDList(projection), training).singletonOrThrow();
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
        return encoder.forward(parameterStore, inputs, training, params);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return encoder.getOutputShapes(inputShapes);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        encoder.initialize(manager, dataType, inputShapes);
        Shape features = encoder.getOutputShapes(inputShapes)[0];
        projector.initialize(manager, dataType, features);
        if (predictor != null) {
            predictor.initialize(manager, dataType, projector.getOutputShapes(new Shape[] {features}));
        }
    }
}
