package io.siamstream.connectors.kafka;

import io.siamstream.connectors.kafka.KafkaImageDeserializer.KeyFormat;
import io.siamstream.record.ImageRecord;
import java.util.Properties;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * A Kafka image source: Flink's FLIP-27 {@link KafkaSource} on one topic, whose records (id key, PNG/JPEG/raw value,
 * optional label header: see {@link KafkaImageDeserializer}) become {@link ImageRecord}s. Malformed records become
 * rejected records that the augmentation operator sends to the dead letter; none fails the job.
 *
 * <pre>{@code
 * KafkaSource<ImageRecord> source = KafkaImageSource.builder("broker:9092", "images", "siamstream", 1, 28, 28)
 *         .classes(10)
 *         .build();
 * env.fromSource(source, WatermarkStrategy.noWatermarks(), "kafka images", TypeInformation.of(ImageRecord.class));
 * }</pre>
 *
 * By default the source starts from the group's committed offsets (the earliest offset where the group has none),
 * commits its offsets on checkpoints (for monitoring: on a restore Flink resumes from its own checkpointed offsets),
 * and is unbounded. Read one topic per source: seqs are unique within a topic only.
 */
public final class KafkaImageSource {

    private KafkaImageSource() {}

    /**
     * @param bootstrapServers Kafka's bootstrap servers, e.g. {@code "localhost:9092"}
     * @param topic            the topic of images
     * @param groupId          the consumer group (committed offsets are kept under it)
     * @param channels         expected channels of every image (1 or 3)
     * @param height           expected height of every image
     * @param width            expected width of every image
     */
    public static Builder builder(String bootstrapServers, String topic, String groupId, int channels, int height,
                                  int width) {
        return new Builder(bootstrapServers, topic, groupId, channels, height, width);
    }

    /** Options of the image source; {@link #build} makes it. */
    public static final class Builder {
        private final String bootstrapServers;
        private final String topic;
        private final String groupId;
        private final int channels;
        private final int height;
        private final int width;
        private KeyFormat keyFormat = KeyFormat.DECIMAL;
        private int classes;
        private OffsetsInitializer startingOffsets = OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
        private OffsetsInitializer stoppingOffsets;
        private final Properties properties = new Properties();

        private Builder(String bootstrapServers, String topic, String groupId, int channels, int height, int width) {
            this.bootstrapServers = required(bootstrapServers, "bootstrap servers");
            this.topic = required(topic, "topic");
            this.groupId = required(groupId, "group id");
            this.channels = channels;
            this.height = height;
            this.width = width;
        }

        /** How the id is written in the key; default {@link KeyFormat#DECIMAL}. */
        public Builder keyFormat(KeyFormat keyFormat) {
            this.keyFormat = keyFormat;
            return this;
        }

        /** Labels must be in [0, classes); default 0: any non-negative label. */
        public Builder classes(int classes) {
            this.classes = classes;
            return this;
        }

        /** Where to start; default: the committed offsets of the group, the earliest where it has none. */
        public Builder startingOffsets(OffsetsInitializer startingOffsets) {
            this.startingOffsets = startingOffsets;
            return this;
        }

        /** Makes the source bounded: it ends at these offsets (e.g. {@code OffsetsInitializer.latest()}). */
        public Builder bounded(OffsetsInitializer stoppingOffsets) {
            this.stoppingOffsets = stoppingOffsets;
            return this;
        }

        /** Any Kafka consumer or KafkaSource property (e.g. security settings, partition.discovery.interval.ms). */
        public Builder property(String key, String value) {
            properties.setProperty(key, value);
            return this;
        }

        public KafkaSource<ImageRecord> build() {
            if (startingOffsets == null) {
                throw new IllegalArgumentException("kafka source: starting offsets are required");
            }
            var builder = KafkaSource.<ImageRecord>builder()
                    .setBootstrapServers(bootstrapServers)
                    .setTopics(topic)
                    .setGroupId(groupId)
                    .setStartingOffsets(startingOffsets)
                    .setDeserializer(new KafkaImageDeserializer(channels, height, width, keyFormat, classes))
                    .setProperties(properties);
            if (stoppingOffsets != null) {
                builder.setBounded(stoppingOffsets);
            }
            return builder.build();
        }
    }

    static String required(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("kafka: " + what + " is required");
        }
        return value;
    }
}
