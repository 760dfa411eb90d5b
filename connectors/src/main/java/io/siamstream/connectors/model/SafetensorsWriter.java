package io.siamstream.connectors.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the safetensors format: an 8-byte little-endian header length n, n bytes of JSON header, then the tensor
 * data. The header maps each tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets into
 * the data, contiguous, in the order tensors were added, no gaps) and carries {@code __metadata__} (string to
 * string) with {@link #FORMAT_KEY} = {@link #FORMAT_VERSION}. The header is padded with spaces so that the data
 * starts at a multiple of 8 bytes. Tensors are little-endian, row-major, F32 or I64 (a scalar has shape []).
 * Framework-free: no DJL or Flink here.
 */
public final class SafetensorsWriter {

    /** The {@code __metadata__} key of siamstream's artifact format version. */
    public static final String FORMAT_KEY = "siamstream.format_version";
    public static final String FORMAT_VERSION = "1";

    private record Entry(String name, String dtype, long[] shape, ByteBuffer data) {}

    private final List<Entry> entries = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    public SafetensorsWriter() {
        metadata.put("format", "pt");
        metadata.put(FORMAT_KEY, FORMAT_VERSION);
    }

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    public SafetensorsWriter f32(String name, long[] shape, float[] values) {
        check(name, shape, values.length);
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        entries.add(new Entry(name, "F32", shape.clone(), b));
        return this;
    }

    public SafetensorsWriter i64(String name, long[] shape, long[] values) {
        check(name, shape, values.length);
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        entries.add(new Entry(name, "I64", shape.clone(), b));
        return this;
    }

    private void check(String name, long[] shape, int count) {
        if (name == null || name.isEmpty() || name.equals("__metadata__")) {
            throw new IllegalArgumentException("bad tensor name '" + name + "'");
        }
        for (Entry e : entries) {
            if (e.name.equals(name)) {
                throw new IllegalArgumentException("tensor '" + name + "' added twice");
            }
        }
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(name + ": negative dimension");
            }
            n *= d;
        }
        if (n != count) {
            throw new IllegalArgumentException(name + ": shape needs " + n + " values, got " + count);
        }
    }

    /** The header JSON, padded with spaces to a multiple of 8 bytes. */
    public byte[] header() {
        StringBuilder json = new StringBuilder("{\"__metadata__\":{");
        boolean first = true;
        for (Map.Entry<String, String> m : metadata.entrySet()) {
            json.append(first ? "" : ",").append(quote(m.getKey())).append(':').append(quote(m.getValue()));
            first = false;
        }
        json.append('}');
        long offset = 0;
        for (Entry e : entries) {
            long end = offset + e.data.capacity();
            json.append(',').append(quote(e.name)).append(":{\"dtype\":\"").append(e.dtype).append("\",\"shape\":[");
            for (int i = 0; i < e.shape.length; i++) {
                json.append(i == 0 ? "" : ",").append(e.shape[i]);
            }
            json.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        json.append('}');
        byte[] raw = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (raw.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(raw, 0, out, 0, raw.length);
        for (int i = raw.length; i < padded; i++) {
            out[i] = ' ';
        }
        return out;
    }

    /** Writes the whole file to {@code out} (which is not closed); returns the number of bytes written. */
    public long writeTo(OutputStream out) throws IOException {
        byte[] header = header();
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
        out.write(len.array());
        out.write(header);
        long total = 8L + header.length;
        for (Entry e : entries) {
            out.write(e.data.array());
            total += e.data.capacity();
        }
        return total;
    }

    public byte[] toBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
