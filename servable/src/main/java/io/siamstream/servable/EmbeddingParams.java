package io.siamstream.servable;

import org.apache.flink.ml.param.Param;
import org.apache.flink.ml.param.ParamValidators;
import org.apache.flink.ml.param.StringParam;
import org.apache.flink.ml.param.WithParams;

/**
 * The columns of embedding, the same in the Flink ML model (Table) and the servable (DataFrame): the image column
 * in, the embedding and the model version that made it out.
 */
public interface EmbeddingParams<T> extends WithParams<T> {

    Param<String> IMAGE_COL = new StringParam("imageCol",
            "Input column of 8-bit images, channel-major (C x H x W bytes).", "image", ParamValidators.notNull());
    Param<String> EMBEDDING_COL = new StringParam("embeddingCol",
            "Output column of the embedding (a DenseVector of the encoder's features).", "embedding",
            ParamValidators.notNull());
    Param<String> VERSION_COL = new StringParam("versionCol",
            "Output column of the model version (training step) that made the embedding.", "model_version",
            ParamValidators.notNull());

    default String getImageCol() {
        return get(IMAGE_COL);
    }

    default T setImageCol(String value) {
        return set(IMAGE_COL, value);
    }

    default String getEmbeddingCol() {
        return get(EMBEDDING_COL);
    }

    default T setEmbeddingCol(String value) {
        return set(EMBEDDING_COL, value);
    }

    default String getVersionCol() {
        return get(VERSION_COL);
    }

    default T setVersionCol(String value) {
        return set(VERSION_COL, value);
    }
}
