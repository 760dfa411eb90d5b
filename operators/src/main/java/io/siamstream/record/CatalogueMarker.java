package io.siamstream.record;

import java.util.Objects;

/**
 * Catalogue refresh: part {@code part} of {@code parts} (one per parallel embedder) has emitted the embeddings of its
 * whole share of the catalogue with model version {@code modelVersion}, {@code count} of them, all before this
 * marker and in the same or an earlier checkpoint. A consumer that has the markers of all parts of a version, and
 * the sum of their counts in embeddings of that version, holds the version's complete set and can swap its index to
 * it in one piece. A Flink POJO; its JSON (toString) is what the sinks write.
 */
public class CatalogueMarker {

    public long modelVersion;
    public long count;
    public int part;
    public int parts;

    public CatalogueMarker() {}

    public CatalogueMarker(long modelVersion, long count, int part, int parts) {
        this.modelVersion = modelVersion;
        this.count = count;
        this.part = part;
        this.parts = parts;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CatalogueMarker m && modelVersion == m.modelVersion && count == m.count && part == m.part
                && parts == m.parts;
    }

    @Override
    public int hashCode() {
        return Objects.hash(modelVersion, count, part, parts);
    }

    @Override
    public String toString() {
        return "{\"marker\":\"catalogue-complete\",\"model_version\":" + modelVersion + ",\"count\":" + count
                + ",\"part\":" + part + ",\"parts\":" + parts + "}";
    }
}
