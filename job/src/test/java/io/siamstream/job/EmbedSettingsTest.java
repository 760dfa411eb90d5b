package io.siamstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/** Bad embedding options fail at start, naming the option and what is allowed. */
class EmbedSettingsTest {

    private static EmbedSettings settings(Map<String, String> options, boolean export) {
        Map<String, String> all = new HashMap<>(options);
        Configuration conf = Configuration.fromMap(all);
        return EmbedSettings.from(conf, JobSettings.from(conf), export);
    }

    @Test
    void noneIsTheDefaultAndReplayTakesTheJobsShape() {
        assertThat(settings(Map.of(), true)).isNull();
        EmbedSettings replay = settings(Map.of("siamstream.embed.source", "replay", "siamstream.embed.refresh", "true",
                "siamstream.embed.batch-size", "32", "siamstream.embed.parallelism", "2"), true);
        assertThat(replay.operator().channels()).isEqualTo(1);
        assertThat(replay.operator().size()).isEqualTo(28);
        assertThat(replay.operator().batchSize()).isEqualTo(32);
        assertThat(replay.parallelism()).isEqualTo(2);
        assertThat(replay.operator().refresh()).isTrue();
        assertThat(replay.operator().maxWaiting()).isEqualTo(10_000);
    }

    @Test
    void badValuesNameTheOptionAndTheAllowedOnes() {
        assertThatThrownBy(() -> settings(Map.of("siamstream.embed.source", "s3"), true))
                .hasMessageContaining("siamstream.embed.source").hasMessageContaining("none, kafka, image-folder, replay");
        assertThatThrownBy(() -> settings(Map.of("siamstream.embed.source", "replay"), false))
                .hasMessageContaining("siamstream.export.models").hasMessageContaining("none");
        assertThatThrownBy(() -> settings(Map.of("siamstream.embed.source", "kafka", "siamstream.embed.refresh", "true"),
                true)).hasMessageContaining("siamstream.embed.refresh").hasMessageContaining("image-folder or replay");
        assertThatThrownBy(() -> settings(Map.of("siamstream.embed.source", "image-folder"), true))
                .hasMessageContaining("siamstream.embed.path");
        assertThatThrownBy(() -> settings(Map.of("siamstream.embed.source", "replay", "siamstream.embed.split", "val"),
                true)).hasMessageContaining("siamstream.embed.split").hasMessageContaining("test, train");
        assertThatThrownBy(() -> settings(Map.of("siamstream.embed.source", "replay", "siamstream.embed.batch-size",
                "0"), true)).hasMessageContaining("siamstream.embed.batch-size").hasMessageContaining("1 to 65536");
        assertThatThrownBy(() -> settings(Map.of("siamstream.embed.source", "replay", "siamstream.embed.parallelism",
                "0"), true)).hasMessageContaining("siamstream.embed.parallelism");
        assertThatThrownBy(() -> settings(Map.of("siamstream.embed.source", "replay", "siamstream.embed.max-waiting",
                "-1"), true)).hasMessageContaining("siamstream.embed.max-waiting");
    }
}
