package io.siamstream.connectors.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.connectors.kafka.KafkaImageDeserializer.KeyFormat;
import io.siamstream.flink.DeadLetters;
import io.siamstream.record.ImageRecord;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import javax.imageio.ImageIO;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/** The Kafka record format, good and malformed, without a broker. */
class KafkaImageDeserializerTest {

    private static final KafkaImageDeserializer GRAY = new KafkaImageDeserializer(1, 28, 28, KeyFormat.DECIMAL, 10);

    static byte[] randomPixels(int channels, int height, int width, long seed) {
        byte[] pixels = new byte[channels * height * width];
        new Random(seed).nextBytes(pixels);
        return pixels;
    }

    private static ConsumerRecord<byte[], byte[]> record(int partition, long offset, byte[] key, byte[] value,
                                                         String label) {
        RecordHeaders headers = new RecordHeaders();
        if (label != null) {
            headers.add(KafkaImageDeserializer.LABEL_HEADER, label.getBytes(StandardCharsets.UTF_8));
        }
        return new ConsumerRecord<>("images", partition, offset, 0L, TimestampType.CREATE_TIME,
                key == null ? -1 : key.length, value == null ? -1 : value.length, key, value, headers, Optional.empty());
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aGrayPngBecomesTheImageWithItsIdLabelAndAPositionSeq() {
        byte[] pixels = randomPixels(1, 28, 28, 1);
        List<ImageRecord> out = new ArrayList<>();
        GRAY.deserialize(record(3, 17, utf8("4711"), ImageBytes.png(pixels, 1, 28, 28), "7"), new Collector<>() {
            @Override
            public void collect(ImageRecord r) {
                out.add(r);
            }

            @Override
            public void close() {}
        });
        assertThat(out).containsExactly(new ImageRecord(4711, (3L << 44) | 17, 0, 1, 28, 28, pixels, 7));
        assertThat(out.get(0).hasError()).isFalse();
    }

    @Test
    void rgbPngAndRawAreDecodedChannelMajorAndALabelIsOptional() {
        byte[] rgb = randomPixels(3, 5, 7, 2);
        KafkaImageDeserializer color = new KafkaImageDeserializer(3, 5, 7, KeyFormat.DECIMAL, 0);
        ImageRecord png = color.toImage(record(0, 0, utf8("-3"), ImageBytes.png(rgb, 3, 5, 7), null));
        assertThat(png.pixels).isEqualTo(rgb);
        assertThat(png.id).isEqualTo(-3);
        assertThat(png.label).isEqualTo(ImageRecord.NO_LABEL);
        ImageRecord raw = color.toImage(record(0, 1, utf8("9"), ImageBytes.raw(rgb, 3, 5, 7), "123456"));
        assertThat(raw.pixels).isEqualTo(rgb);
        assertThat(raw.label).isEqualTo(123456);
        assertThat(raw.seq).isEqualTo(1);
    }

    @Test
    void aJpegIsDecodedToTheExpectedShape() throws Exception {
        BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                image.getRaster().setSample(x, y, 0, x < 14 ? 40 : 200);
            }
        }
        ByteArrayOutputStream jpeg = new ByteArrayOutputStream();
        assertThat(ImageIO.write(image, "jpeg", jpeg)).isTrue();
        ImageRecord r = GRAY.toImage(record(0, 5, utf8("1"), jpeg.toByteArray(), null));
        assertThat(r.hasError()).isFalse();
        assertThat(r.pixels).hasSize(28 * 28);
        assertThat(r.pixels[28 * 10 + 3] & 0xff).isBetween(30, 50); // lossy, but close
        assertThat(r.pixels[28 * 10 + 24] & 0xff).isBetween(190, 210);
    }

    @Test
    void anEightByteKeyIsABigEndianLongInThatFormat() {
        KafkaImageDeserializer longKeys = new KafkaImageDeserializer(1, 2, 2, KeyFormat.LONG_BIG_ENDIAN, 0);
        byte[] key = ByteBuffer.allocate(8).putLong(1L << 40 | 5).array();
        ImageRecord r = longKeys.toImage(record(1, 2, key, ImageBytes.raw(new byte[4], 1, 2, 2), null));
        assertThat(r.id).isEqualTo(1L << 40 | 5);
        assertThat(longKeys.toImage(record(1, 2, utf8("5"), ImageBytes.raw(new byte[4], 1, 2, 2), null)).error)
                .isEqualTo(KafkaImageDeserializer.BAD_KEY);
    }

    @Test
    void malformedRecordsBecomeRejectedRecordsWithAReasonNeverExceptions() {
        byte[] png = ImageBytes.png(randomPixels(1, 28, 28, 3), 1, 28, 28);
        byte[] truncated = Arrays.copyOf(png, png.length / 2);
        byte[] corrupt = png.clone();
        for (int i = 40; i < corrupt.length - 20; i++) {
            corrupt[i] ^= 0x5a;
        }
        Object[][] cases = {
                {null, png, "1", KafkaImageDeserializer.BAD_KEY},
                {new byte[0], png, "1", KafkaImageDeserializer.BAD_KEY},
                {utf8("12a"), png, "1", KafkaImageDeserializer.BAD_KEY},
                {utf8(" 12"), png, "1", KafkaImageDeserializer.BAD_KEY},
                {utf8("99999999999999999999"), png, "1", KafkaImageDeserializer.BAD_KEY},
                {utf8("1"), null, "1", DeadLetters.NO_PIXELS},
                {utf8("1"), new byte[0], "1", DeadLetters.NO_PIXELS},
                {utf8("1"), utf8("not an image at all"), "1", DeadLetters.UNDECODABLE},
                {utf8("1"), truncated, "1", DeadLetters.UNDECODABLE},
                {utf8("1"), corrupt, "1", DeadLetters.UNDECODABLE},
                {utf8("1"), Arrays.copyOf(png, 8), "1", DeadLetters.UNDECODABLE},
                {utf8("1"), Arrays.copyOf(ImageBytes.RAW_MAGIC, 6), "1", DeadLetters.UNDECODABLE},
                {utf8("1"), ImageBytes.png(new byte[27 * 28], 1, 27, 28), "1", DeadLetters.WRONG_SHAPE},
                {utf8("1"), ImageBytes.png(new byte[3 * 28 * 28], 3, 28, 28), "1", DeadLetters.WRONG_CHANNELS},
                {utf8("1"), ImageBytes.raw(new byte[28 * 27], 1, 28, 27), "1", DeadLetters.WRONG_SHAPE},
                {utf8("1"), Arrays.copyOf(ImageBytes.raw(new byte[28 * 28], 1, 28, 28), 100), "1", DeadLetters.WRONG_SIZE},
                {utf8("1"), png, "10", DeadLetters.UNKNOWN_LABEL},
                {utf8("1"), png, "-1", DeadLetters.UNKNOWN_LABEL},
                {utf8("1"), png, "cat", DeadLetters.UNKNOWN_LABEL},
                {utf8("1"), png, "", DeadLetters.UNKNOWN_LABEL},
        };
        for (int i = 0; i < cases.length; i++) {
            ImageRecord r = GRAY.toImage(record(0, 100 + i, (byte[]) cases[i][0], (byte[]) cases[i][1],
                    (String) cases[i][2]));
            assertThat(r.error).as("case %d: %s", i, r).isEqualTo(cases[i][3]);
            assertThat(r.errorDetail).as("case %d", i).startsWith("images-0@" + (100 + i));
            assertThat(r.pixels).isNull();
            assertThat(r.id).isEqualTo(-1);
            assertThat(r.seq).isEqualTo(-1);
        }
    }

    @Test
    void aPngThatClaimsAHugeSizeIsRejectedBeforeItsPixelsAreAllocated() {
        byte[] png = ImageBytes.png(new byte[28 * 28], 1, 28, 28);
        // IHDR width and height (bytes 16..23) say 100000 x 100000; the CRC no longer matches, the size is read first
        ByteBuffer.wrap(png).putInt(16, 100_000).putInt(20, 100_000);
        ImageRecord r = GRAY.toImage(record(0, 1, utf8("1"), png, null));
        assertThat(r.error).isIn(DeadLetters.WRONG_SHAPE, DeadLetters.UNDECODABLE);
    }

    @Test
    void seqsAreUniquePerPartitionAndOffsetWithinTheirRange() {
        assertThat(KafkaImageDeserializer.seq(0, 0)).isZero();
        assertThat(KafkaImageDeserializer.seq(1, 0)).isEqualTo(1L << 44);
        assertThat(KafkaImageDeserializer.seq(KafkaImageDeserializer.MAX_PARTITION, KafkaImageDeserializer.MAX_OFFSET))
                .isEqualTo(Long.MAX_VALUE);
        assertThat(KafkaImageDeserializer.seq(0, KafkaImageDeserializer.MAX_OFFSET + 1)).isEqualTo(-1);
        assertThat(GRAY.toImage(record(0, KafkaImageDeserializer.MAX_OFFSET + 1, utf8("1"), new byte[1], null)).error)
                .isEqualTo(KafkaImageDeserializer.SEQ_OVERFLOW);
    }

    @Test
    void invalidExpectationsFailWhenTheSourceIsBuilt() {
        assertThatThrownBy(() -> new KafkaImageDeserializer(2, 28, 28, KeyFormat.DECIMAL, 0))
                .hasMessageContaining("channels 2");
        assertThatThrownBy(() -> KafkaImageSource.builder("localhost:9092", "images", "g", 1, 0, 28).build())
                .hasMessageContaining("0x28");
        assertThatThrownBy(() -> KafkaImageSource.builder("localhost:9092", " ", "g", 1, 28, 28))
                .hasMessageContaining("topic");
        assertThat(GRAY.getProducedType()).isInstanceOf(org.apache.flink.api.java.typeutils.PojoTypeInfo.class);
    }
}
