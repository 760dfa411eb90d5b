package io.siamstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code siamstream.encoder.pool-grid}: unset, the encoder keeps its global average pool and the fingerprint of earlier
 * runs; set, the encoder and the fingerprint carry the grid, so that a checkpoint of one cannot restore into the other.
 */
class PoolGridSettingsTest {

    private static JobSettings settings(String grid) {
        Configuration conf = new Configuration();
        conf.setString("siamstream.method", "simclr");
        if (grid != null) {
            conf.setString("siamstream.encoder.pool-grid", grid);
        }
        return JobSettings.from(conf);
    }

    @Test
    void unsetKeepsTheGlobalPoolAndTheFingerprint() {
        JobSettings unset = settings(null);
        assertThat(unset.learner().encoder().poolGrid()).isEqualTo(1);
        assertThat(unset.learner().modelFingerprint()).doesNotContain("pool-grid")
                .isEqualTo(settings("1").learner().modelFingerprint());
    }

    @Test
    void setTheEncoderAndTheFingerprintCarryIt() {
        JobSettings two = settings("2");
        assertThat(two.learner().encoder().poolGrid()).isEqualTo(2);
        assertThat(two.learner().modelFingerprint()).contains("pool-grid=2")
                .isNotEqualTo(settings(null).learner().modelFingerprint());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "5", "-1"})
    void outOfRangeFailsNamingTheOptionAndTheRange(String value) {
        assertThatThrownBy(() -> settings(value)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("siamstream.encoder.pool-grid").hasMessageContaining("1 to 4");
    }
}
