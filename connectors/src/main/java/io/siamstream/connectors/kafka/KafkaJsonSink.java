package io.siamstream.connectors.kafka;

import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The job's records (step metrics, evaluation reports, model-update metadata, dead letters) as JSON on a Kafka
 * topic, with Flink's FLIP-143 {@link KafkaSink}: one Kafka record per element, no key, the value the element's
 * JSON in UTF-8 (the records' toString is their JSON, as in the JSON-lines file sink).
 *
 * <p>{@link DeliveryGuarantee#EXACTLY_ONCE}: records are written in Kafka transactions committed when a
 * checkpoint completes, so readers with {@code isolation.level=read_committed} see each exactly once, with the
 * latency of the checkpoint interval; the job must checkpoint. The transactional id prefix must be unique per sink
 * among all jobs on the Kafka cluster (use one per topic). The producer's {@code transaction.timeout.ms} defaults
 * here to {@value #DEFAULT_TRANSACTION_TIMEOUT_MS} ms, the brokers' default maximum: it must exceed the longest
 * checkpoint interval plus recovery time, or the broker aborts a transaction before Flink commits it.
 * {@link DeliveryGuarantee#AT_LEAST_ONCE}: flushed on checkpoints, duplicates after a failure, no transactions.
 */
public final class KafkaJsonSink {

    /** transaction.timeout.ms unless the producer properties say otherwise (15 min, the brokers' default maximum). */
    public static final int DEFAULT_TRANSACTION_TIMEOUT_MS = 900_000;

    private KafkaJsonSink() {}

    /**
     * @param bootstrapServers     Kafka's bootstrap servers
     * @param topic                the topic to write
     * @param guarantee            EXACTLY_ONCE, AT_LEAST_ONCE or NONE
     * @param transactionalIdPrefix required for EXACTLY_ONCE (unique per sink), ignored otherwise
     */
    public static <T> KafkaSink<T> of(String bootstrapServers, String topic, DeliveryGuarantee guarantee,
                                      String transactionalIdPrefix) {
        return of(bootstrapServers, topic, guarantee, transactionalIdPrefix, new Properties());
    }

    /** As {@link #of(String, String, DeliveryGuarantee, String)}, with extra Kafka producer properties. */
    public static <T> KafkaSink<T> of(String bootstrapServers, String topic, DeliveryGuarantee guarantee,
                                      String transactionalIdPrefix, Properties producerProperties) {
        KafkaImageSource.required(topic, "output topic");
        return sink(bootstrapServers, KafkaRecordSerializationSchema.<T>builder()
                .setTopic(topic)
                .setValueSerializationSchema(new Json<T>())
                .build(), guarantee, transactionalIdPrefix, producerProperties);
    }

    /**
     * A KafkaSink of {@code serializer}'s records with the job's delivery rules: for EXACTLY_ONCE a transactional id
     * prefix is required and transaction.timeout.ms defaults to {@value #DEFAULT_TRANSACTION_TIMEOUT_MS}.
     */
    static <T> KafkaSink<T> sink(String bootstrapServers, KafkaRecordSerializationSchema<T> serializer,
                                 DeliveryGuarantee guarantee, String transactionalIdPrefix,
                                 Properties producerProperties) {
        KafkaImageSource.required(bootstrapServers, "bootstrap servers");
        if (guarantee == null) {
            throw new IllegalArgumentException("kafka sink: a delivery guarantee is required");
        }
        Properties properties = new Properties();
        properties.putAll(producerProperties);
        var builder = KafkaSink.<T>builder()
                .setBootstrapServers(bootstrapServers)
                .setRecordSerializer(serializer)
                .setDeliveryGuarantee(guarantee);
        if (guarantee == DeliveryGuarantee.EXACTLY_ONCE) {
            KafkaImageSource.required(transactionalIdPrefix, "transactional id prefix (for exactly-once)");
            properties.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
                    String.valueOf(DEFAULT_TRANSACTION_TIMEOUT_MS));
            builder.setTransactionalIdPrefix(transactionalIdPrefix);
        }
        return builder.setKafkaProducerConfig(properties).build();
    }

    /** A record's JSON (its toString) in UTF-8. */
    public static final class Json<T> implements SerializationSchema<T> {
        private static final long serialVersionUID = 1L;

        @Override
        public byte[] serialize(T element) {
            return element.toString().getBytes(StandardCharsets.UTF_8);
        }
    }
}
