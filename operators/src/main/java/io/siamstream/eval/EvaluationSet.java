package io.siamstream.eval;

/**
 * Labelled images for evaluation, already normalised (N x C x H x W floats): the memory bank / probe training set
 * and the query / test set, with the number of classes.
 */
public record EvaluationSet(float[] bank, int[] bankLabels, float[] queries, int[] queryLabels, int numClasses) {}
