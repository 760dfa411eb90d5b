package io.siamstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.config.types.Password;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka client settings through {@code siamstream.kafka.properties.*}, with the credentials of a mounted Secret read by
 * Kafka's DirectoryConfigProvider when the client starts (as the k8s manifests do); the job's own settings cannot be
 * overridden that way.
 */
class KafkaClientPropertiesTest {

    @Test
    void credentialsOfAMountedSecretReachTheClientNotTheConfiguration(@TempDir Path secret) throws Exception {
        Files.writeString(secret.resolve("username"), "trainer");
        Files.writeString(secret.resolve("password"), "s3cr3t");
        String p = KafkaSettings.CLIENT_PROPERTIES_PREFIX;
        Configuration conf = Configuration.fromMap(Map.of(
                "siamstream.source.kind", "kafka",
                "siamstream.kafka.bootstrap-servers", "kafka:9093",
                p + "security.protocol", "SASL_SSL",
                p + "sasl.mechanism", "SCRAM-SHA-512",
                p + "config.providers", "dir",
                p + "config.providers.dir.class", "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
                p + "sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required"
                        + " username=\"${dir:" + secret + ":username}\" password=\"${dir:" + secret + ":password}\";"));
        KafkaSettings kafka = KafkaSettings.from(conf);
        assertThat(kafka.clientProperties()).containsEntry("security.protocol", "SASL_SSL")
                .hasSize(5).allSatisfy((k, v) -> assertThat(v).doesNotContain("s3cr3t"));
        Properties props = kafka.clientProperties(new Properties());
        props.put("bootstrap.servers", kafka.bootstrapServers());
        props.put("key.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
        props.put("value.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
        // what a KafkaConsumer does with its properties first: config providers resolve the variables
        ConsumerConfig client = new ConsumerConfig(props);
        assertThat(((Password) client.values().get("sasl.jaas.config")).value())
                .contains("username=\"trainer\"").contains("password=\"s3cr3t\"");
        assertThat(client.getString("security.protocol")).isEqualTo("SASL_SSL");
    }

    @Test
    void theJobsOwnClientSettingsCannotBeOverridden() {
        for (String own : new String[] {"bootstrap.servers", "group.id", "transactional.id", "isolation.level"}) {
            Configuration conf = Configuration.fromMap(Map.of(KafkaSettings.CLIENT_PROPERTIES_PREFIX + own, "x"));
            assertThatThrownBy(() -> KafkaSettings.from(conf)).hasMessageContaining(
                    KafkaSettings.CLIENT_PROPERTIES_PREFIX + own).hasMessageContaining("allowed");
        }
    }
}
