package io.siamstream.connectors.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the safetensors format strictly (see {@link SafetensorsWriter}): the header must be valid JSON, every
 * tensor's offsets must be contiguous from 0 (in offset order: no gaps, no overlap), cover the
 * data exactly, and match dtype x shape. F32 and I64 are read; other dtypes fail naming the tensor.
 */
public final class SafetensorsReader {

    /** One tensor: dtype (F32 or I64), shape, and its values (floats or longs, the other null). */
    public record Entry(String dtype, long[] shape, float[] floats, long[] longs) {}

    /** A parsed file: metadata, the tensors in header order, and the header length (for layout checks). */
    public record Contents(Map<String, String> metadata, Map<String, Entry> tensors, long headerLength) {}

    private SafetensorsReader() {}

    public static Contents read(byte[] file) {
        if (file.length < 8) {
            throw new IllegalArgumentException("safetensors: " + file.length + " bytes, shorter than the 8-byte header length");
        }
        ByteBuffer buf = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        long n = buf.getLong(0);
        if (n < 2 || n > file.length - 8L) {
            throw new IllegalArgumentException("safetensors: header length " + n + " does not fit a file of " + file.length);
        }
        String json = new String(file, 8, (int) n, StandardCharsets.UTF_8);
        JsonObject header = JsonParser.parseString(json).getAsJsonObject();
        long dataStart = 8 + n;
        long dataLength = file.length - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, Entry> tensors = new LinkedHashMap<>();
        java.util.TreeMap<Long, long[]> spans = new java.util.TreeMap<>();
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                for (Map.Entry<String, JsonElement> m : e.getValue().getAsJsonObject().entrySet()) {
                    metadata.put(m.getKey(), m.getValue().getAsString());
                }
                continue;
            }
            String name = e.getKey();
            JsonObject t = e.getValue().getAsJsonObject();
            String dtype = t.get("dtype").getAsString();
            var shapeJson = t.getAsJsonArray("shape");
            long[] shape = new long[shapeJson.size()];
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeJson.get(i).getAsLong();
                count *= shape[i];
            }
            var offsets = t.getAsJsonArray("data_offsets");
            long begin = offsets.get(0).getAsLong();
            long end = offsets.get(1).getAsLong();
            int size = switch (dtype) {
                case "F32" -> 4;
                case "I64" -> 8;
                default -> throw new IllegalArgumentException("safetensors: tensor " + name + " has dtype " + dtype
                        + "; this reader reads F32 and I64");
            };
            if (begin < 0 || end < begin || end > dataLength || end - begin != count * size) {
                throw new IllegalArgumentException("safetensors: tensor " + name + " has offsets [" + begin + ", " + end
                        + "] that do not hold " + count + " x " + dtype + " in " + dataLength + " data bytes");
            }
            if (spans.put(begin, new long[] {end}) != null) {
                throw new IllegalArgumentException("safetensors: two tensors start at " + begin);
            }
            ByteBuffer slice = ByteBuffer.wrap(file, (int) (dataStart + begin), (int) (end - begin)).slice()
                    .order(ByteOrder.LITTLE_ENDIAN);
            if (size == 4) {
                float[] v = new float[(int) count];
                slice.asFloatBuffer().get(v);
                tensors.put(name, new Entry(dtype, shape, v, null));
            } else {
                long[] v = new long[(int) count];
                slice.asLongBuffer().get(v);
                tensors.put(name, new Entry(dtype, shape, null, v));
            }
        }
        long expected = 0;
        for (Map.Entry<Long, long[]> s : spans.entrySet()) {
            if (s.getKey() != expected) {
                throw new IllegalArgumentException("safetensors: a gap or an overlap in the data at byte " + expected);
            }
            expected = s.getValue()[0];
        }
        if (expected != dataLength) {
            throw new IllegalArgumentException("safetensors: the tensors cover " + expected + " of " + dataLength + " data bytes");
        }
        return new Contents(Collections.unmodifiableMap(metadata), Collections.unmodifiableMap(tensors), n);
    }
}
