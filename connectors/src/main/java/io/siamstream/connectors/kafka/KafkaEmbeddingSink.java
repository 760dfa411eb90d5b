package io.siamstream.connectors.kafka;

import io.siamstream.record.Embedding;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Embeddings on a Kafka topic ({@code <prefix>embeddings}), one record per image:
 * <ul>
 *   <li><b>key</b>: the image id, in the same {@link KafkaImageDeserializer.KeyFormat} as the image source reads it
 *       (by default UTF-8 decimal text), so the key of an image's embedding is the key of the image;</li>
 *   <li><b>header {@value #VERSION_HEADER}</b>: the model version (the training step of its weights), UTF-8 decimal;</li>
 *   <li><b>value</b>: the vector, float32 little-endian, {@code feature_dim} x 4 bytes (feature_dim is in the
 *       version's model.json).</li>
 * </ul>
 * Exactly once with {@link DeliveryGuarantee#EXACTLY_ONCE}, as {@link KafkaJsonSink}: read it with
 * {@code isolation.level=read_committed}.
 */
public final class KafkaEmbeddingSink {

    /** The header that carries the model version. */
    public static final String VERSION_HEADER = "model-version";

    private KafkaEmbeddingSink() {}

    public static KafkaSink<Embedding> of(String bootstrapServers, String topic, KafkaImageDeserializer.KeyFormat keyFormat,
                                          DeliveryGuarantee guarantee, String transactionalIdPrefix,
                                          Properties producerProperties) {
        KafkaImageSource.required(topic, "embeddings topic");
        return KafkaJsonSink.sink(bootstrapServers, new Serializer(topic, keyFormat), guarantee, transactionalIdPrefix,
                producerProperties);
    }

    /** The value of an embedding: its vector as float32 little-endian. */
    public static byte[] value(float[] vector) {
        ByteBuffer buf = ByteBuffer.allocate(vector.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(vector);
        return buf.array();
    }

    /** A value back to the vector (what a consumer does). */
    public static float[] vector(byte[] value) {
        if (value.length % Float.BYTES != 0) {
            throw new IllegalArgumentException(value.length + " bytes are not float32 values");
        }
        float[] out = new float[value.length / Float.BYTES];
        ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    /** The key of an image id in {@code format}. */
    public static byte[] key(long id, KafkaImageDeserializer.KeyFormat format) {
        if (format == KafkaImageDeserializer.KeyFormat.LONG_BIG_ENDIAN) {
            return ByteBuffer.allocate(Long.BYTES).putLong(id).array();
        }
        return Long.toString(id).getBytes(StandardCharsets.UTF_8);
    }

    static final class Serializer implements KafkaRecordSerializationSchema<Embedding> {
        private static final long serialVersionUID = 1L;
        private final String topic;
        private final KafkaImageDeserializer.KeyFormat keyFormat;

        Serializer(String topic, KafkaImageDeserializer.KeyFormat keyFormat) {
            this.topic = topic;
            this.keyFormat = keyFormat;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(Embedding e, KafkaSinkContext context, Long timestamp) {
            RecordHeaders headers = new RecordHeaders();
            headers.add(VERSION_HEADER, Long.toString(e.modelVersion).getBytes(StandardCharsets.UTF_8));
            return new ProducerRecord<>(topic, null, timestamp, key(e.id, keyFormat), value(e.vector), headers);
        }
    }
}
