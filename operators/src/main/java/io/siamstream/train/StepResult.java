package io.siamstream.train;

/**
 * What one training step reports.
 *
 * @param step the number of completed (applied) steps after this one
 * @param loss the loss of the batch (NaN or infinite when the step was skipped)
 * @param skipped true when the loss was not finite and the model was left as it was
 * @param projectionStd the mean over dimensions of the batch standard deviation of l2-normalised z (the SimSiam
 *     paper's monitor)
 * @param outputStd the same of the online output that the loss compares (p for SimSiam; z when there is no
 *     predictor). With the paper's projector, whose last layer is a batch norm without affine parameters, z keeps
 *     zero mean and unit variance per dimension in training mode and cannot shrink to a point; a collapse shows
 *     fully only here (as in lightly's SimSiam example, which monitors p)
 * @param healthyStd 1 / sqrt(dim of z): the value of a healthy (uniformly spread) representation; 0 is collapse
 * @param lr the learning rate of the update
 * @param millis wall time of the step
 */
public record StepResult(
        long step, double loss, boolean skipped, double projectionStd, double outputStd, double healthyStd,
        double lr, double millis) {}
