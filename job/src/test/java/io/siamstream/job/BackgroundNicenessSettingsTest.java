package io.siamstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code siamstream.train.background-niceness}: 0 (off, the default) to 19; anything else fails at start. */
class BackgroundNicenessSettingsTest {

    private static JobSettings settings(String niceness) {
        Configuration conf = new Configuration();
        if (niceness != null) {
            conf.setString("siamstream.train.background-niceness", niceness);
        }
        return JobSettings.from(conf);
    }

    @org.junit.jupiter.api.Test
    void unsetIsOff() {
        assertThat(settings(null).backgroundNiceness()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "1", "19"})
    void inRangeIsKept(String value) {
        assertThat(settings(value).backgroundNiceness()).isEqualTo(Integer.parseInt(value));
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "20"})
    void outOfRangeFailsNamingTheOptionAndTheRange(String value) {
        assertThatThrownBy(() -> settings(value)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("siamstream.train.background-niceness").hasMessageContaining("0 (off) to 19");
    }
}
