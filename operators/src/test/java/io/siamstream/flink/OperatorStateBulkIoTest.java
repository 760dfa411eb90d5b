package io.siamstream.flink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.SplittableRandom;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.memory.DataInputViewStreamWrapper;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputViewStreamWrapper;
import org.apache.flink.runtime.state.CompressibleFSDataInputStream;
import org.apache.flink.runtime.state.CompressibleFSDataOutputStream;
import org.apache.flink.runtime.state.SnappyStreamCompressionDecorator;
import org.apache.flink.runtime.state.StreamCompressionDecorator;
import org.apache.flink.runtime.state.UncompressedStreamCompressionDecorator;
import org.apache.flink.runtime.state.memory.ByteStreamStateHandle;
import org.apache.flink.runtime.state.memory.MemCheckpointStreamFactory;
import org.junit.jupiter.api.Test;

/**
 * The learner's chunks written the way the operator state backend writes list state (a
 * {@link DataOutputViewStreamWrapper} over a {@link CompressibleFSDataOutputStream} over a checkpoint stream) and read
 * back the way it restores it: in bulk, to the same bytes as the byte-by-byte path, with and without snapshot
 * compression.
 */
class OperatorStateBulkIoTest {

    private static final int SIZE = 3 << 20;

    private static LearnerChunk chunk() {
        byte[] bytes = new byte[SIZE];
        new SplittableRandom(7).nextBytes(bytes);
        return new LearnerChunk(3, "param/01encoder_conv#0", bytes);
    }

    /** A checkpoint stream that counts the bytes it was handed one at a time. */
    private static final class CountingStream extends MemCheckpointStreamFactory.MemoryCheckpointOutputStream {
        long singleByteWrites;

        CountingStream() {
            super(64 << 20);
        }

        @Override
        public void write(int b) throws IOException {
            singleByteWrites++;
            super.write(b);
        }
    }

    /** What the checkpoint stream received, and how many of its bytes came one at a time. */
    private record Written(byte[] bytes, long singleByteWrites) {}

    /** Serializes two chunks as the backend does. */
    private static Written writeAsTheBackendDoes(StreamCompressionDecorator compression) throws Exception {
        var checkpointStream = new CountingStream();
        var compressible = new CompressibleFSDataOutputStream(checkpointStream, compression);
        var view = new DataOutputViewStreamWrapper(compressible);
        assertThat(OperatorStateBulkIo.bulkStream(view))
                .as("the bulk path is reachable in this JVM (its flags open java.io, as Flink's distribution does)")
                .isNotNull();
        LearnerChunkSerializer.INSTANCE.serialize(chunk(), view);
        long between = compressible.getPos();
        LearnerChunkSerializer.INSTANCE.serialize(new LearnerChunk(0, LearnerChunk.INDEX, new byte[] {1, 2, 3}), view);
        compressible.flush();
        assertThat(between).isPositive();
        return new Written(((ByteStreamStateHandle) checkpointStream.closeAndGetHandle()).getData(),
                checkpointStream.singleByteWrites);
    }

    @Test
    void uncompressedBulkWriteGivesTheBytesOfTheByteByBytePath() throws Exception {
        Written written = writeAsTheBackendDoes(UncompressedStreamCompressionDecorator.INSTANCE);

        DataOutputSerializer reference = new DataOutputSerializer(SIZE + 128);
        LearnerChunkSerializer.INSTANCE.serialize(chunk(), reference);
        LearnerChunkSerializer.INSTANCE.serialize(new LearnerChunk(0, LearnerChunk.INDEX, new byte[] {1, 2, 3}),
                reference);
        assertThat(written.bytes()).isEqualTo(reference.getCopyOfBuffer());
        assertThat(written.singleByteWrites()).as("bytes that reached the checkpoint stream one at a time (the headers only)")
                .isLessThan(100);
    }

    @Test
    void compressedBulkWriteReadsBackThroughTheBackendsInputStream() throws Exception {
        byte[] written = writeAsTheBackendDoes(SnappyStreamCompressionDecorator.INSTANCE).bytes();

        var in = new CompressibleFSDataInputStream(
                new ByteStreamStateHandle("written", written).openInputStream(), SnappyStreamCompressionDecorator.INSTANCE);
        var view = new DataInputViewStreamWrapper(in);
        LearnerChunk back = LearnerChunkSerializer.INSTANCE.deserialize(view);
        assertThat(back.replica).isEqualTo(3);
        assertThat(back.entry).isEqualTo("param/01encoder_conv#0");
        assertThat(back.bytes).isEqualTo(chunk().bytes);
        assertThat(LearnerChunkSerializer.INSTANCE.deserialize(view).bytes).containsExactly(1, 2, 3);
    }

    /** A restore's input stream that counts the bytes it handed out one at a time. */
    private static final class CountingInput extends FSDataInputStream {
        final FSDataInputStream delegate;
        long singleByteReads;

        CountingInput(FSDataInputStream delegate) {
            this.delegate = delegate;
        }

        @Override
        public void seek(long desired) throws IOException {
            delegate.seek(desired);
        }

        @Override
        public long getPos() throws IOException {
            return delegate.getPos();
        }

        @Override
        public int read() throws IOException {
            singleByteReads++;
            return delegate.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return delegate.read(b, off, len);
        }
    }

    @Test
    void restoreReadsTheChunksInBulkAfterSeekingAsTheBackendDoes() throws Exception {
        byte[] written = writeAsTheBackendDoes(UncompressedStreamCompressionDecorator.INSTANCE).bytes();
        long secondAt = written.length - (4 + 2 + LearnerChunk.INDEX.length() + 4 + 3);

        var counting = new CountingInput(new ByteStreamStateHandle("written", written).openInputStream());
        var in = new CompressibleFSDataInputStream(counting, UncompressedStreamCompressionDecorator.INSTANCE);
        var view = new DataInputViewStreamWrapper(in);
        assertThat(OperatorStateBulkIo.bulkStream(view)).isNotNull();
        LearnerChunk first = LearnerChunkSerializer.INSTANCE.deserialize(view);
        assertThat(first.bytes).isEqualTo(chunk().bytes);
        assertThat(counting.singleByteReads).as("bytes read one at a time (the headers only)").isLessThan(100);

        in.seek(secondAt);
        LearnerChunk second = LearnerChunkSerializer.INSTANCE.deserialize(view);
        assertThat(second.entry).isEqualTo(LearnerChunk.INDEX);
        assertThat(second.bytes).containsExactly(1, 2, 3);

        in.seek(0);
        assertThat(LearnerChunkSerializer.INSTANCE.deserialize(view).bytes).isEqualTo(chunk().bytes);
    }

    @Test
    void aTruncatedChunkIsAnEofNotAShortArray() throws Exception {
        byte[] written = writeAsTheBackendDoes(UncompressedStreamCompressionDecorator.INSTANCE).bytes();
        byte[] cut = java.util.Arrays.copyOf(written, 1000);
        var in = new CompressibleFSDataInputStream(new ByteStreamStateHandle("cut", cut).openInputStream(),
                UncompressedStreamCompressionDecorator.INSTANCE);
        assertThatThrownBy(() -> LearnerChunkSerializer.INSTANCE.deserialize(new DataInputViewStreamWrapper(in)))
                .isInstanceOf(java.io.EOFException.class);
    }

    @Test
    void otherTargetsAreWrittenThroughTheView() throws Exception {
        DataOutputSerializer plain = new DataOutputSerializer(64);
        assertThat(OperatorStateBulkIo.bulkStream(plain)).isNull();
        var overBytes = new DataOutputViewStreamWrapper(new ByteArrayOutputStream());
        assertThat(OperatorStateBulkIo.bulkStream(overBytes)).isNull();
        OperatorStateBulkIo.write(plain, new byte[] {4, 5});
        assertThat(plain.getCopyOfBuffer()).containsExactly(4, 5);
    }
}
