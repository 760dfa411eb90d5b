package io.siamstream.connectors.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.siamstream.train.Engines;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SafetensorsTest {

    private static byte[] sample() {
        return new SafetensorsWriter()
                .f32("a.weight", new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, -6.5f})
                .f32("b", new long[] {1}, new float[] {Float.MIN_VALUE})
                .i64("a.num_batches_tracked", new long[0], new long[] {123456789012L})
                .toBytes();
    }

    @Test
    void roundTrip() {
        SafetensorsReader.Contents c = SafetensorsReader.read(sample());
        assertThat(c.tensors().keySet()).containsExactly("a.weight", "b", "a.num_batches_tracked");
        assertThat(c.tensors().get("a.weight").floats()).containsExactly(1, 2, 3, 4, 5, -6.5f);
        assertThat(c.tensors().get("a.weight").shape()).containsExactly(2, 3);
        assertThat(c.tensors().get("b").floats()).containsExactly(Float.MIN_VALUE);
        assertThat(c.tensors().get("a.num_batches_tracked").longs()).containsExactly(123456789012L);
        assertThat(c.tensors().get("a.num_batches_tracked").shape()).isEmpty();
        assertThat(c.metadata()).containsEntry(SafetensorsWriter.FORMAT_KEY, SafetensorsWriter.FORMAT_VERSION)
                .containsEntry("format", "pt");
    }

    @Test
    void exactByteLayout() {
        byte[] file = sample();
        long n = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertThat((8 + n) % 8).as("data starts 8-aligned").isZero();
        String header = new String(file, 8, (int) n, StandardCharsets.UTF_8);
        String trimmed = header.stripTrailing();
        assertThat(header.substring(trimmed.length())).matches(" *").hasSizeLessThan(8);
        assertThat(trimmed).startsWith("{\"__metadata__\":{").endsWith("}");
        JsonObject json = JsonParser.parseString(header).getAsJsonObject();
        assertThat(json.getAsJsonObject("__metadata__").get(SafetensorsWriter.FORMAT_KEY).getAsString()).isEqualTo("1");
        JsonObject a = json.getAsJsonObject("a.weight");
        assertThat(a.get("dtype").getAsString()).isEqualTo("F32");
        assertThat(a.get("data_offsets").toString()).isEqualTo("[0,24]");
        assertThat(json.getAsJsonObject("b").get("data_offsets").toString()).isEqualTo("[24,28]");
        JsonObject t = json.getAsJsonObject("a.num_batches_tracked");
        assertThat(t.get("dtype").getAsString()).isEqualTo("I64");
        assertThat(t.get("shape").toString()).isEqualTo("[]");
        assertThat(t.get("data_offsets").toString()).isEqualTo("[28,36]");
        assertThat(file.length).isEqualTo(8 + n + 36);
        // little-endian data right after the header
        ByteBuffer data = ByteBuffer.wrap(file, (int) (8 + n), 36).slice().order(ByteOrder.LITTLE_ENDIAN);
        assertThat(data.getFloat(20)).isEqualTo(-6.5f);
        assertThat(data.getLong(28)).isEqualTo(123456789012L);
    }

    @Test
    void djlDecodesIt() throws Exception {
        try (NDManager manager = Engines.pyTorch().newBaseManager()) {
            NDList list = NDList.decode(manager, sample());
            assertThat(list).hasSize(3);
            Map<String, NDArray> byName = new java.util.HashMap<>();
            list.forEach(a -> byName.put(a.getName(), a));
            assertThat(byName.get("a.weight").toFloatArray()).containsExactly(1, 2, 3, 4, 5, -6.5f);
            assertThat(byName.get("a.weight").getShape().getShape()).containsExactly(2, 3);
            assertThat(byName.get("a.num_batches_tracked").getDataType()).isEqualTo(DataType.INT64);
            assertThat(byName.get("a.num_batches_tracked").toLongArray()).containsExactly(123456789012L);
        }
    }

    @Test
    void readerRefusesGapsAndBadSizes() {
        byte[] file = sample();
        long n = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(file, 8, (int) n, StandardCharsets.UTF_8).replace("[24,28]", "[25,29]");
        byte[] bad = file.clone();
        System.arraycopy(header.getBytes(StandardCharsets.UTF_8), 0, bad, 8, (int) n);
        assertThatThrownBy(() -> SafetensorsReader.read(bad)).hasMessageContaining("gap");
        assertThatThrownBy(() -> SafetensorsReader.read(java.util.Arrays.copyOf(file, file.length - 1)))
                .hasMessageContaining("num_batches_tracked");
        assertThatThrownBy(() -> new SafetensorsWriter().f32("x", new long[] {2}, new float[3]))
                .hasMessageContaining("needs 2");
    }

    @Test
    void npyLayout() {
        byte[] npy = Npy.f32(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertThat(npy[0] & 0xff).isEqualTo(0x93);
        assertThat(new String(npy, 1, 5, StandardCharsets.US_ASCII)).isEqualTo("NUMPY");
        assertThat(npy[6]).isEqualTo((byte) 1);
        assertThat(npy[7]).isEqualTo((byte) 0);
        int headerLength = ByteBuffer.wrap(npy).order(ByteOrder.LITTLE_ENDIAN).getShort(8);
        assertThat((10 + headerLength) % 64).isZero();
        String header = new String(npy, 10, headerLength, StandardCharsets.US_ASCII);
        assertThat(header).startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }").endsWith("\n");
        Npy.Array back = Npy.read(npy);
        assertThat(back.shape()).containsExactly(2, 3);
        assertThat(back.floats()).containsExactly(1, 2, 3, 4, 5, 6);
    }
}
