package io.siamstream.eval;

import io.siamstream.model.EncoderConfig;
import io.siamstream.train.LearnerState;

/**
 * A committed model version as an embedder needs it: the encoder's architecture, its input (channels, square size,
 * per-channel normalisation of pixels in [0, 1]) and its weights under DJL names ({@code param/...}).
 */
public record EncoderVersion(long version, EncoderConfig encoder, int channels, int size, float[] mean, float[] std,
                             LearnerState weights) {

    public EncoderVersion {
        if (mean.length != channels || std.length != channels) {
            throw new IllegalArgumentException("model version " + version + ": mean/std have " + mean.length + "/"
                    + std.length + " values for " + channels + " channels");
        }
    }
}
