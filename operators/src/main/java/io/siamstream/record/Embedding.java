package io.siamstream.record;

import java.util.Arrays;
import java.util.Objects;

/**
 * The embedding of one image of the embedding stream, made by the committed model version {@code modelVersion} (the
 * training step of its weights). A Flink POJO. Its JSON (toString) is what the file sink writes; the Kafka sink writes
 * the vector as float32 little-endian with the image id as key and the version in a header.
 */
public class Embedding {

    public long id;
    public long modelVersion;
    public float[] vector;

    public Embedding() {}

    public Embedding(long id, long modelVersion, float[] vector) {
        this.id = id;
        this.modelVersion = modelVersion;
        this.vector = vector;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Embedding e && id == e.id && modelVersion == e.modelVersion && Arrays.equals(vector, e.vector);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, modelVersion) * 31 + Arrays.hashCode(vector);
    }

    /** JSON; each float as Java's shortest decimal that reads back to the same float32. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(32 + (vector == null ? 0 : vector.length * 12));
        b.append("{\"id\":").append(id).append(",\"model_version\":").append(modelVersion).append(",\"vector\":");
        if (vector == null) {
            return b.append("null}").toString();
        }
        b.append('[');
        for (int i = 0; i < vector.length; i++) {
            if (i > 0) {
                b.append(',');
            }
            float v = vector[i];
            b.append(Float.isFinite(v) ? Float.toString(v) : "null");
        }
        return b.append("]}").toString();
    }
}
