package io.siamstream.connectors.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.record.DeadLetter;
import io.siamstream.record.ModelUpdate;
import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.junit.jupiter.api.Test;

/** The JSON encoding and the options of the Kafka sink, without a broker. */
class KafkaJsonSinkTest {

    @Test
    void recordsAreTheirJsonInUtf8() {
        DeadLetter letter = new DeadLetter("source", "undecodable", "bild \"kaputt\" \u00fc", 3, 4);
        assertThat(new String(new KafkaJsonSink.Json<DeadLetter>().serialize(letter), StandardCharsets.UTF_8))
                .isEqualTo("{\"stage\":\"source\",\"reason\":\"undecodable\",\"detail\":\"bild \\\"kaputt\\\" \u00fc\","
                        + "\"id\":3,\"seq\":4}");
        ModelUpdate update = new ModelUpdate();
        update.version = 50;
        update.step = 50;
        update.epoch = 2;
        update.uri = "file:/models/50";
        update.sha256 = "ab12";
        update.bytes = 99;
        update.fingerprint = "simsiam \"convnet\"";
        update.encoderState = new byte[123];
        update.loss = Double.NaN;
        update.projectionStd = 0.25;
        update.outputStd = 0.125;
        update.wallTimeMillis = 7;
        assertThat(new String(new KafkaJsonSink.Json<ModelUpdate>().serialize(update), StandardCharsets.UTF_8))
                .isEqualTo("{\"replica\":0,\"version\":50,\"step\":50,\"epoch\":2,\"fingerprint\":\"simsiam \\\"convnet\\\"\","
                        + "\"uri\":\"file:/models/50\",\"sha256\":\"ab12\",\"bytes\":99,\"encoder_bytes\":123,\"loss\":null,\"projection_std\":0.250000,\"output_std\":0.125000,\"wall_time_ms\":7}");
    }

    @Test
    void exactlyOnceNeedsATransactionalIdPrefixTheOthersDoNot() {
        assertThatThrownBy(() -> KafkaJsonSink.of("localhost:9092", "steps", DeliveryGuarantee.EXACTLY_ONCE, null))
                .hasMessageContaining("transactional id prefix");
        assertThat(KafkaJsonSink.of("localhost:9092", "steps", DeliveryGuarantee.EXACTLY_ONCE, "siamstream-steps"))
                .isNotNull();
        assertThat(KafkaJsonSink.of("localhost:9092", "steps", DeliveryGuarantee.AT_LEAST_ONCE, null)).isNotNull();
        assertThatThrownBy(() -> KafkaJsonSink.of("", "steps", DeliveryGuarantee.NONE, null))
                .hasMessageContaining("bootstrap servers");
    }
}
