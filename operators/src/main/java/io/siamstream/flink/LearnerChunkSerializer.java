package io.siamstream.flink;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Writes a {@link LearnerChunk} as int replica, UTF entry, int length, bytes.
 *
 * <p>It declares the type immutable, and that is what takes the learner's bytes off the training thread: the operator
 * state backend copies list state in the synchronous part of a checkpoint through the element serializer's
 * {@code copy}, which for an immutable type keeps the references, and serializes the copy in the asynchronous part.
 * The training operator never changes a chunk it has handed to the state (each checkpoint copies the learner into new
 * arrays), so sharing them is safe. The bytes go to the checkpoint stream and come back from it in bulk
 * ({@link OperatorStateBulkIo}), not byte by byte through Flink's stream wrappers.
 */
public final class LearnerChunkSerializer extends TypeSerializerSingleton<LearnerChunk> {

    private static final long serialVersionUID = 1L;
    public static final LearnerChunkSerializer INSTANCE = new LearnerChunkSerializer();

    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public LearnerChunk createInstance() {
        return new LearnerChunk();
    }

    @Override
    public LearnerChunk copy(LearnerChunk from) {
        return from;
    }

    @Override
    public LearnerChunk copy(LearnerChunk from, LearnerChunk reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(LearnerChunk record, DataOutputView target) throws IOException {
        target.writeInt(record.replica);
        target.writeUTF(record.entry);
        target.writeInt(record.bytes.length);
        OperatorStateBulkIo.write(target, record.bytes);
    }

    @Override
    public LearnerChunk deserialize(DataInputView source) throws IOException {
        int replica = source.readInt();
        String entry = source.readUTF();
        byte[] bytes = new byte[source.readInt()];
        OperatorStateBulkIo.readFully(source, bytes);
        return new LearnerChunk(replica, entry, bytes);
    }

    @Override
    public LearnerChunk deserialize(LearnerChunk reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        target.writeInt(source.readInt());
        target.writeUTF(source.readUTF());
        int length = source.readInt();
        target.writeInt(length);
        target.write(source, length);
    }

    @Override
    public TypeSerializerSnapshot<LearnerChunk> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Restores the serializer; the format has no parameters. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<LearnerChunk> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
