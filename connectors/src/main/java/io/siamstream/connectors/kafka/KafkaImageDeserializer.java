package io.siamstream.connectors.kafka;

import io.siamstream.flink.DeadLetters;
import io.siamstream.record.ImageRecord;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * Turns each Kafka record into one {@link ImageRecord}; it never throws, so no record can fail the job.
 *
 * <p>The record format:
 * <ul>
 *   <li><b>key</b>: the image id, in the source's {@link KeyFormat} (by default the id as UTF-8 decimal text, e.g.
 *       {@code "1234"}; or 8 bytes, a big-endian signed long).</li>
 *   <li><b>value</b>: the image, PNG, JPEG or raw (see {@link ImageBytes}), of exactly the expected channels x
 *       height x width.</li>
 *   <li><b>header {@value #LABEL_HEADER}</b> (optional): the class label as UTF-8 decimal text, in [0, classes)
 *       when the number of classes is set, non-negative otherwise. Without it the record has no label.</li>
 * </ul>
 *
 * <p>A good record becomes an image with epoch 0 and {@code seq = }{@link #seq seq(partition, offset)}: unique per
 * topic and the same whenever the record is read again, so view pairing (keyed by seq) works and a replay after a
 * failure makes the same views. The seqs of a topic are not contiguous (one range per partition, offset gaps after
 * transactions), so the trainer must use arrival batching, not sequence batching.
 *
 * <p>A malformed record (no key or an unparsable one, no value, bytes that are not an image, another size or
 * channel count, a bad label) becomes {@link ImageRecord#rejected rejected record}: no pixels, id and seq -1, the
 * dead-letter reason and a detail naming topic, partition, offset and key. The augmentation operator sends it to
 * the dead-letter side output (a deserializer cannot emit to a side output itself).
 *
 * <p>Metric: counter {@value #METRIC_MALFORMED} on the source's metric group.
 */
public class KafkaImageDeserializer implements KafkaRecordDeserializationSchema<ImageRecord> {

    private static final long serialVersionUID = 1L;

    /** The header that carries the label. */
    public static final String LABEL_HEADER = "label";
    /** Dead-letter reason: the record has no key, or its key is not an id in the expected format. */
    public static final String BAD_KEY = "bad-key";
    /** Dead-letter reason: the record's partition or offset does not fit in a seq (see {@link #seq}). */
    public static final String SEQ_OVERFLOW = "seq-overflow";
    /** Name of the counter of malformed records. */
    public static final String METRIC_MALFORMED = "malformedRecords";

    /** Bits of the offset in a seq; the partition takes the bits above them. */
    public static final int OFFSET_BITS = 44;
    /** The largest partition number a seq can hold (2^19 - 1). */
    public static final int MAX_PARTITION = (1 << (63 - OFFSET_BITS)) - 1;
    /** The largest offset a seq can hold (2^44 - 1). */
    public static final long MAX_OFFSET = (1L << OFFSET_BITS) - 1;

    /** How the image id is written in the record key. */
    public enum KeyFormat {
        /** The id as UTF-8 decimal text (an optional minus sign and digits, no spaces), e.g. {@code "1234"}. */
        DECIMAL,
        /** The id as exactly 8 bytes: a big-endian signed long. */
        LONG_BIG_ENDIAN
    }

    private final int channels;
    private final int height;
    private final int width;
    private final KeyFormat keyFormat;
    private final int classes;

    private transient Counter malformed;

    /**
     * @param channels  expected channels of every image (1 or 3)
     * @param height    expected height
     * @param width     expected width
     * @param keyFormat how the id is written in the key
     * @param classes   number of classes (labels must be in [0, classes)); 0 accepts any non-negative label
     */
    public KafkaImageDeserializer(int channels, int height, int width, KeyFormat keyFormat, int classes) {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("kafka source: expected channels " + channels
                    + " is not allowed; allowed: 1, 3");
        }
        if (height < 1 || width < 1 || height > 0xffff || width > 0xffff) {
            throw new IllegalArgumentException("kafka source: expected image size " + height + "x" + width
                    + " is not allowed; allowed: 1..65535 each");
        }
        if (keyFormat == null) {
            throw new IllegalArgumentException("kafka source: a key format is required");
        }
        if (classes < 0) {
            throw new IllegalArgumentException("kafka source: number of classes " + classes
                    + " is not allowed; allowed: >= 0 (0: any non-negative label)");
        }
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.keyFormat = keyFormat;
        this.classes = classes;
    }

    /**
     * The seq of the record at {@code offset} of {@code partition}: {@code partition << 44 | offset}, or -1 when
     * either is out of range (partition above {@link #MAX_PARTITION}, offset above {@link #MAX_OFFSET}).
     */
    public static long seq(int partition, long offset) {
        if (partition < 0 || partition > MAX_PARTITION || offset < 0 || offset > MAX_OFFSET) {
            return -1;
        }
        return ((long) partition << OFFSET_BITS) | offset;
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) {
        malformed = context.getMetricGroup().counter(METRIC_MALFORMED);
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<ImageRecord> out) {
        out.collect(toImage(record));
    }

    /** The image of one Kafka record, or its rejected record; never throws. */
    public ImageRecord toImage(ConsumerRecord<byte[], byte[]> record) {
        String where = record.topic() + "-" + record.partition() + "@" + record.offset();
        long seq = seq(record.partition(), record.offset());
        if (seq < 0) {
            return reject(SEQ_OVERFLOW, where + ": partition or offset too large for a seq (at most partition "
                    + MAX_PARTITION + ", offset " + MAX_OFFSET + ")");
        }
        byte[] key = record.key();
        Long id = parseId(key);
        if (id == null) {
            return reject(BAD_KEY, where + ": key " + describeKey(key) + " is not an image id ("
                    + (keyFormat == KeyFormat.DECIMAL ? "UTF-8 decimal" : "8-byte big-endian long") + ")");
        }
        String label = headerText(record);
        int parsedLabel = ImageRecord.NO_LABEL;
        if (label != null) {
            parsedLabel = parseLabel(label);
            if (parsedLabel < 0) {
                return reject(DeadLetters.UNKNOWN_LABEL, where + " (id " + id + "): label '" + label + "' is not "
                        + (classes > 0 ? "a class in 0.." + (classes - 1) : "a non-negative integer"));
            }
        }
        byte[] pixels;
        try {
            pixels = ImageBytes.decode(record.value(), channels, height, width);
        } catch (ImageBytes.MalformedImageException e) {
            return reject(e.reason(), where + " (id " + id + "): " + e.getMessage());
        }
        return new ImageRecord(id, seq, 0, channels, height, width, pixels, parsedLabel);
    }

    private ImageRecord reject(String reason, String detail) {
        if (malformed != null) {
            malformed.inc();
        }
        return ImageRecord.rejected(-1, -1, reason, detail);
    }

    private Long parseId(byte[] key) {
        if (key == null || key.length == 0) {
            return null;
        }
        if (keyFormat == KeyFormat.LONG_BIG_ENDIAN) {
            if (key.length != Long.BYTES) {
                return null;
            }
            long id = 0;
            for (byte b : key) {
                id = (id << 8) | (b & 0xff);
            }
            return id;
        }
        return parseDecimal(key);
    }

    /** Strict decimal: an optional '-', then 1 to 19 ASCII digits, within the long range. */
    private static Long parseDecimal(byte[] text) {
        if (text.length > 20) {
            return null;
        }
        for (int i = 0; i < text.length; i++) {
            byte b = text[i];
            if (!(b >= '0' && b <= '9') && !(b == '-' && i == 0 && text.length > 1)) {
                return null;
            }
        }
        try {
            return Long.parseLong(new String(text, StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The label, or -1 when it is not a valid one. */
    private int parseLabel(String text) {
        if (text.isEmpty() || text.length() > 10 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        long label = Long.parseLong(text);
        if (label > Integer.MAX_VALUE || (classes > 0 && label >= classes)) {
            return -1;
        }
        return (int) label;
    }

    private static String headerText(ConsumerRecord<byte[], byte[]> record) {
        Header header = record.headers() == null ? null : record.headers().lastHeader(LABEL_HEADER);
        if (header == null) {
            return null;
        }
        return header.value() == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static String describeKey(byte[] key) {
        if (key == null) {
            return "(none)";
        }
        if (key.length == 0) {
            return "(empty)";
        }
        int shown = Math.min(key.length, 24);
        boolean printable = true;
        for (int i = 0; i < shown; i++) {
            printable &= key[i] >= 0x20 && key[i] < 0x7f;
        }
        if (printable) {
            return "'" + new String(key, 0, shown, StandardCharsets.US_ASCII) + "'"
                    + (shown < key.length ? "... (" + key.length + " bytes)" : "");
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < shown; i++) {
            b.append(String.format("%02x", key[i] & 0xff));
        }
        return "0x" + b + (shown < key.length ? "... (" + key.length + " bytes)" : "");
    }

    @Override
    public TypeInformation<ImageRecord> getProducedType() {
        return TypeInformation.of(ImageRecord.class);
    }
}
