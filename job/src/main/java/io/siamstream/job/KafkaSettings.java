package io.siamstream.job;

import io.siamstream.connectors.kafka.KafkaEmbeddingSink;
import io.siamstream.connectors.kafka.KafkaImageDeserializer;
import io.siamstream.connectors.kafka.KafkaImageSource;
import io.siamstream.connectors.kafka.KafkaJsonSink;
import io.siamstream.record.ImageRecord;
import java.io.Serializable;
import java.util.Locale;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The job's Kafka settings, validated at start: whether images come from Kafka, whether outputs go to Kafka, and the
 * broker, topics, key format, delivery guarantee and transactional id prefix.
 */
public record KafkaSettings(boolean source, boolean sink, String bootstrapServers, String topic, String groupId,
                            KafkaImageDeserializer.KeyFormat keyFormat, String outputTopicPrefix,
                            DeliveryGuarantee delivery, String transactionalIdPrefix,
                            java.util.Map<String, String> clientProperties) implements Serializable {

    /**
     * Kafka client properties for the job's consumers and producers: every {@code siamstream.kafka.properties.<key>}
     * becomes {@code <key>} (security.protocol, sasl.*, ssl.*, config providers, ...). Secrets stay out of the
     * configuration through Kafka's config providers, e.g. a Kubernetes Secret mounted as a directory and
     * {@code ${dir:/opt/flink/secrets/kafka:password}} with {@code config.providers=dir} (see k8s/).
     */
    public static final String CLIENT_PROPERTIES_PREFIX = "siamstream.kafka.properties.";
    /** What the job sets itself, per source or sink: not to be overridden through the prefix. */
    private static final java.util.Set<String> OWN_PROPERTIES = java.util.Set.of("bootstrap.servers", "group.id",
            "key.deserializer", "value.deserializer", "key.serializer", "value.serializer", "transactional.id",
            "enable.auto.commit", "isolation.level");

    /** The uid of the Kafka source: not the replay source's, so a replay savepoint's splits never restore into it. */
    public static final String SOURCE_UID = "source-kafka";

    public static KafkaSettings from(Configuration conf) {
        boolean source = choice(conf.get(SiamstreamOptions.SOURCE_KIND), SiamstreamOptions.SOURCE_KIND.key(),
                "replay", "kafka");
        boolean sink = choice(conf.get(SiamstreamOptions.SINK_KIND), SiamstreamOptions.SINK_KIND.key(),
                "files", "kafka");
        String bootstrap = conf.getOptional(SiamstreamOptions.KAFKA_BOOTSTRAP_SERVERS).orElse("").trim();
        if ((source || sink) && bootstrap.isEmpty()) {
            throw new IllegalArgumentException(SiamstreamOptions.KAFKA_BOOTSTRAP_SERVERS.key()
                    + " is required when " + SiamstreamOptions.SOURCE_KIND.key() + " or "
                    + SiamstreamOptions.SINK_KIND.key() + " is kafka; allowed: host:port[,host:port...]");
        }
        String keyFormat = conf.get(SiamstreamOptions.KAFKA_KEY_FORMAT).trim().toLowerCase(Locale.ROOT);
        KafkaImageDeserializer.KeyFormat key = switch (keyFormat) {
            case "decimal" -> KafkaImageDeserializer.KeyFormat.DECIMAL;
            case "long" -> KafkaImageDeserializer.KeyFormat.LONG_BIG_ENDIAN;
            default -> throw new IllegalArgumentException(SiamstreamOptions.KAFKA_KEY_FORMAT.key() + ": '" + keyFormat
                    + "' is not allowed; allowed values: decimal, long");
        };
        String delivery = conf.get(SiamstreamOptions.KAFKA_DELIVERY).trim().toLowerCase(Locale.ROOT);
        DeliveryGuarantee guarantee = switch (delivery) {
            case "exactly-once" -> DeliveryGuarantee.EXACTLY_ONCE;
            case "at-least-once" -> DeliveryGuarantee.AT_LEAST_ONCE;
            default -> throw new IllegalArgumentException(SiamstreamOptions.KAFKA_DELIVERY.key() + ": '" + delivery
                    + "' is not allowed; allowed values: exactly-once, at-least-once");
        };
        java.util.Map<String, String> client = new java.util.TreeMap<>();
        conf.toMap().forEach((k, v) -> {
            if (k.startsWith(CLIENT_PROPERTIES_PREFIX)) {
                String property = k.substring(CLIENT_PROPERTIES_PREFIX.length());
                if (property.isEmpty() || OWN_PROPERTIES.contains(property)) {
                    throw new IllegalArgumentException(k + ": not allowed; the job sets " + OWN_PROPERTIES
                            + " itself (use siamstream.kafka.bootstrap-servers, group-id, delivery-guarantee,"
                            + " transactional-id-prefix); allowed: any other Kafka client property");
                }
                client.put(property, v);
            }
        });
        return new KafkaSettings(source, sink, bootstrap, conf.get(SiamstreamOptions.KAFKA_TOPIC).trim(),
                conf.get(SiamstreamOptions.KAFKA_GROUP_ID).trim(), key,
                conf.get(SiamstreamOptions.KAFKA_OUTPUT_TOPIC_PREFIX).trim(), guarantee,
                conf.get(SiamstreamOptions.KAFKA_TRANSACTIONAL_ID_PREFIX).trim(), java.util.Map.copyOf(client));
    }

    /** The client properties as Kafka takes them. */
    public java.util.Properties clientProperties(java.util.Properties base) {
        java.util.Properties p = new java.util.Properties();
        p.putAll(base);
        p.putAll(clientProperties);
        return p;
    }

    private static boolean choice(String value, String option, String first, String second) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (!v.equals(first) && !v.equals(second)) {
            throw new IllegalArgumentException(option + ": '" + value + "' is not allowed; allowed values: " + first
                    + ", " + second);
        }
        return v.equals(second);
    }

    /** The image stream from the Kafka topic, decoded and checked against the job's image shape. */
    public DataStream<ImageRecord> images(StreamExecutionEnvironment env, JobSettings settings) {
        return env.fromSource(
                        withClientProperties(KafkaImageSource.builder(bootstrapServers, topic, groupId,
                                settings.channels(), settings.imageSize(), settings.imageSize()).keyFormat(keyFormat))
                                .build(),
                        WatermarkStrategy.noWatermarks(), "kafka " + topic, TypeInformation.of(ImageRecord.class))
                .uid(SOURCE_UID);
    }

    /** {@code builder} with the client properties. */
    public KafkaImageSource.Builder withClientProperties(KafkaImageSource.Builder builder) {
        clientProperties.forEach(builder::property);
        return builder;
    }

    private <T> org.apache.flink.connector.kafka.sink.KafkaSink<T> json(String topic, String suffix) {
        return KafkaJsonSink.of(bootstrapServers, outputTopicPrefix + topic, delivery, transactionalIdPrefix + suffix,
                clientProperties(new java.util.Properties()));
    }

    /** JSON records to {@code <prefix>steps}, {@code reports}, {@code dead-letters} and {@code models} (metadata). */
    public JobSinks sinks() {
        return new JobSinks(json("steps", "-steps"), json("reports", "-reports"),
                json("dead-letters", "-dead-letters"), json("models", "-models"));
    }

    /**
     * {@code sinks} with the embedding stream: vectors to {@code <prefix>embeddings} (key = image id in the key
     * format, header model-version, value float32 little-endian), catalogue markers as JSON to
     * {@code <prefix>embedding-sets}.
     */
    public JobSinks withEmbeddings(JobSinks sinks) {
        return sinks.withEmbeddings(
                KafkaEmbeddingSink.of(bootstrapServers, outputTopicPrefix + "embeddings", keyFormat, delivery,
                        transactionalIdPrefix + "-embeddings", clientProperties(new java.util.Properties())),
                json("embedding-sets", "-embedding-sets"));
    }
}
