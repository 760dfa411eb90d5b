package io.siamstream.train;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Learner state to bytes and back. Layout (big-endian header, little-endian tensor data):
 * <pre>
 *   int   magic 0x53534C53 ("SSLS")
 *   int   format version
 *   UTF   fingerprint, long step, long skipped steps, long seed
 *   int   tensor count, then per tensor: UTF name, int rank, long[rank] shape, float[size] data
 * </pre>
 * The tensor part is also available on its own ({@link #encodeTensor}), so a checkpoint can keep one entry per tensor.
 */
public final class LearnerStateCodec {

    public static final int MAGIC = 0x53534C53;
    /** The format this build writes. */
    public static final int VERSION = 1;
    /** The oldest format this build still reads. */
    public static final int OLDEST_READABLE = 1;

    private LearnerStateCodec() {}

    public static byte[] encode(LearnerState state) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(Math.toIntExact(state.tensorBytes() + 4096));
            DataOutputStream out = new DataOutputStream(bytes);
            writeHeader(out, state, VERSION);
            out.writeInt(state.tensors().size());
            for (Map.Entry<String, Tensor> entry : state.tensors().entrySet()) {
                out.writeUTF(entry.getKey());
                out.write(encodeTensor(entry.getValue()));
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static LearnerState decode(byte[] data) {
        try {
            DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(data));
            Header header = readHeader(in, "learner state");
            int count = in.readInt();
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) {
                String name = in.readUTF();
                tensors.put(name, readTensor(in));
            }
            return new LearnerState(header.fingerprint, header.step, header.skipped, header.seed, tensors);
        } catch (IOException e) {
            throw new IllegalArgumentException("truncated or corrupt learner state: " + e, e);
        }
    }

    /** Fails with a message that says which versions this build reads. */
    public static void checkVersion(int version) {
        if (version < OLDEST_READABLE || version > VERSION) {
            throw new IllegalStateException("learner state format version " + version
                    + " is not supported: this build reads versions " + OLDEST_READABLE + " to " + VERSION
                    + (version > VERSION ? " (the state was written by a newer siamstream)" : ""));
        }
    }

    /** One tensor: int rank, long[rank] shape, then its floats little-endian. */
    public static byte[] encodeTensor(Tensor tensor) {
        ByteBuffer buffer = ByteBuffer.allocate(4 + 8 * tensor.shape().length + 4 * tensor.data().length);
        buffer.putInt(tensor.shape().length);
        for (long d : tensor.shape()) {
            buffer.putLong(d);
        }
        buffer.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(tensor.data());
        return buffer.array();
    }

    /**
     * The same bytes as {@link #encodeTensor(Tensor)}, from float32 values in {@code floats} (position to limit, in
     * the buffer's byte order): with little-endian values, as an engine's native memory is on x86 and ARM, the data
     * part is one bulk copy, with no float[] in between.
     */
    public static byte[] encodeTensor(long[] shape, ByteBuffer floats) {
        return encodeTensor(shape, floats, null);
    }

    /**
     * As {@link #encodeTensor(long[], ByteBuffer)}, written into {@code into} where it has exactly the right length
     * (a fresh array otherwise), which is returned: reusing the arrays of an earlier snapshot spares the allocation
     * and the first touch of 4 bytes per value.
     */
    public static byte[] encodeTensor(long[] shape, ByteBuffer floats, byte[] into) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        int header = 4 + 8 * shape.length;
        ByteBuffer values = floats.duplicate().order(floats.order());
        if (values.remaining() != 4 * n) {
            throw new IllegalArgumentException("shape " + java.util.Arrays.toString(shape) + " needs " + 4 * n
                    + " bytes, the buffer holds " + values.remaining());
        }
        int length = Math.toIntExact(header + 4 * n);
        byte[] out = into != null && into.length == length ? into : new byte[length];
        ByteBuffer buffer = ByteBuffer.wrap(out);
        buffer.putInt(shape.length);
        for (long d : shape) {
            buffer.putLong(d);
        }
        if (values.order() == ByteOrder.LITTLE_ENDIAN) {
            values.get(out, header, Math.toIntExact(4 * n));
        } else {
            buffer.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values.asFloatBuffer());
        }
        return out;
    }

    public static Tensor decodeTensor(byte[] data) {
        try {
            return readTensor(new DataInputStream(new java.io.ByteArrayInputStream(data)));
        } catch (IOException e) {
            throw new IllegalArgumentException("truncated or corrupt tensor: " + e, e);
        }
    }

    private static Tensor readTensor(DataInputStream in) throws IOException {
        int rank = in.readInt();
        if (rank < 0 || rank > 8) {
            throw new IOException("tensor rank " + rank + " out of range");
        }
        long[] shape = new long[rank];
        long size = 1;
        for (int d = 0; d < rank; d++) {
            shape[d] = in.readLong();
            size *= shape[d];
        }
        if (size < 0 || size > Integer.MAX_VALUE / 4) {
            throw new IOException("tensor size " + size + " out of range");
        }
        byte[] raw = new byte[Math.toIntExact(size * 4)];
        in.readFully(raw);
        float[] values = new float[(int) size];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return new Tensor(shape, values);
    }

    /** The header and the list of tensor names with how many chunks each was cut into, for chunked storage. */
    public record Index(String fingerprint, long step, long skippedSteps, long seed, Map<String, Integer> chunks) {}

    /** Header plus tensor names and chunk counts (the tensors themselves are stored elsewhere, e.g. one entry each). */
    public static byte[] encodeIndex(LearnerState state, Map<String, Integer> chunks) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(4096);
            DataOutputStream out = new DataOutputStream(bytes);
            writeHeader(out, state, VERSION);
            out.writeInt(chunks.size());
            for (Map.Entry<String, Integer> entry : chunks.entrySet()) {
                out.writeUTF(entry.getKey());
                out.writeInt(entry.getValue());
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Index decodeIndex(byte[] data) {
        try {
            DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(data));
            Header header = readHeader(in, "learner state index");
            int count = in.readInt();
            Map<String, Integer> chunks = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) {
                chunks.put(in.readUTF(), in.readInt());
            }
            return new Index(header.fingerprint, header.step, header.skipped, header.seed, chunks);
        } catch (IOException e) {
            throw new IllegalArgumentException("truncated or corrupt learner state index: " + e, e);
        }
    }

    private record Header(String fingerprint, long step, long skipped, long seed) {}

    /** Reads and checks magic and version, then the fingerprint and counters that {@link #writeHeader} wrote. */
    private static Header readHeader(DataInputStream in, String what) throws IOException {
        int magic = in.readInt();
        if (magic != MAGIC) {
            throw new IllegalArgumentException(String.format(
                    "not a siamstream %s: magic 0x%08X, expected 0x%08X", what, magic, MAGIC));
        }
        checkVersion(in.readInt());
        return new Header(in.readUTF(), in.readLong(), in.readLong(), in.readLong());
    }

    static void writeHeader(DataOutputStream out, LearnerState state, int version) throws IOException {
        out.writeInt(MAGIC);
        out.writeInt(version);
        out.writeUTF(state.fingerprint());
        out.writeLong(state.step());
        out.writeLong(state.skippedSteps());
        out.writeLong(state.seed());
    }
}
