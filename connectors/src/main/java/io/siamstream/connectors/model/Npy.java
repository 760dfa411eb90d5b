package io.siamstream.connectors.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's .npy format, version 1.0: the magic {@code \x93NUMPY}, version bytes 1 0, a little-endian uint16 header
 * length, a header dict {@code {'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }} padded with spaces and
 * ended by a newline so that the data starts at a multiple of 64 bytes, then the values, little-endian, C order.
 * Float32 ({@code <f4}) and int64 ({@code <i8}) arrays.
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern HEADER = Pattern.compile(
            "\\{'descr': '([<>|][a-z][0-9]+)', 'fortran_order': (True|False), 'shape': \\(([0-9, ]*)\\), \\}");

    /** A read array: its shape and its values (floats for f4, longs for i8). */
    public record Array(long[] shape, float[] floats, long[] longs) {}

    private Npy() {}

    public static void writeF32(OutputStream out, float[] values, long... shape) throws IOException {
        check(values.length, shape);
        out.write(header("<f4", shape));
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        out.write(b.array());
    }

    public static void writeI64(OutputStream out, long[] values, long... shape) throws IOException {
        check(values.length, shape);
        out.write(header("<i8", shape));
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        out.write(b.array());
    }

    public static byte[] f32(float[] values, long... shape) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            writeF32(out, values, shape);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void check(int n, long[] shape) {
        long count = 1;
        for (long d : shape) {
            count *= d;
        }
        if (count != n) {
            throw new IllegalArgumentException("npy: shape needs " + count + " values, got " + n);
        }
    }

    static byte[] header(String descr, long[] shape) {
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            s.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        if (shape.length == 1) {
            s.append(',');
        }
        s.append(')');
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + s + ", }";
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
        int total = (unpadded + 63) / 64 * 64;
        String padded = dict + " ".repeat(total - unpadded) + "\n";
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) padded.length());
        b.put(padded.getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    /** Reads a version 1.0 or 2.0 .npy file of {@code <f4} or {@code <i8} values in C order. */
    public static Array read(byte[] file) {
        for (int i = 0; i < MAGIC.length; i++) {
            if (file[i] != MAGIC[i]) {
                throw new IllegalArgumentException("npy: bad magic");
            }
        }
        int major = file[6];
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = major == 1 ? Short.toUnsignedInt(b.getShort(8)) : b.getInt(8);
        int start = major == 1 ? 10 : 12;
        String header = new String(file, start, headerLength, StandardCharsets.US_ASCII).trim();
        Matcher m = HEADER.matcher(header.replace("\"", "'").replaceAll(",\\s*}", ", }"));
        if (!m.find() || m.group(2).equals("True")) {
            throw new IllegalArgumentException("npy: unsupported header " + header);
        }
        String[] dims = m.group(3).replace(" ", "").split(",");
        long[] shape = java.util.Arrays.stream(dims).filter(d -> !d.isEmpty()).mapToLong(Long::parseLong).toArray();
        long count = 1;
        for (long d : shape) {
            count *= d;
        }
        ByteBuffer data = ByteBuffer.wrap(file, start + headerLength, file.length - start - headerLength).slice()
                .order(ByteOrder.LITTLE_ENDIAN);
        return switch (m.group(1)) {
            case "<f4" -> {
                float[] v = new float[(int) count];
                data.asFloatBuffer().get(v);
                yield new Array(shape, v, null);
            }
            case "<i8" -> {
                long[] v = new long[(int) count];
                data.asLongBuffer().get(v);
                yield new Array(shape, null, v);
            }
            default -> throw new IllegalArgumentException("npy: dtype " + m.group(1) + " not read here");
        };
    }
}
