package io.siamstream.connectors.model;

import java.io.IOException;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

/**
 * A version written to its staging directory and waiting for the checkpoint that covers it: the committer renames
 * {@code staging} to {@code <models>/<version>}.
 *
 * @param sha256 of the staged encoder.safetensors (hex), to recognise the version when it is committed already
 */
public record ModelCommittable(long version, String staging, String sha256, long bytes) {

    /** The committable in checkpoints: format version 1 = version, staging, sha256, bytes. */
    public static final class Serializer implements SimpleVersionedSerializer<ModelCommittable> {

        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(ModelCommittable c) throws IOException {
            DataOutputSerializer out = new DataOutputSerializer(128);
            out.writeLong(c.version);
            out.writeUTF(c.staging);
            out.writeUTF(c.sha256);
            out.writeLong(c.bytes);
            return out.getCopyOfBuffer();
        }

        @Override
        public ModelCommittable deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1) {
                throw new IOException("model committable: serializer version " + version + " is not readable; this build reads 1");
            }
            DataInputDeserializer in = new DataInputDeserializer(serialized);
            return new ModelCommittable(in.readLong(), in.readUTF(), in.readUTF(), in.readLong());
        }
    }
}
