package io.siamstream.eval;

import io.siamstream.record.ModelUpdate;
import java.io.Serializable;

/**
 * Loads the committed artifact an announcement names ({@link ModelUpdate#uri}, checked against its
 * {@link ModelUpdate#sha256}). Implemented where the files are (a file system); the embedder only sees this.
 */
@FunctionalInterface
public interface EncoderVersionLoader extends Serializable {

    EncoderVersion load(ModelUpdate announcement) throws ModelVersionRejected;
}
