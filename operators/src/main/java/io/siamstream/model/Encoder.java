package io.siamstream.model;

import ai.djl.nn.Block;

/** A backbone block and the width of the feature vector it produces for one image. */
public record Encoder(Block block, int featureDim) {}
