package io.siamstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.augment.ViewPolicy;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** {@code siamstream.augment.crop-min-scale}: unset, each method's policy keeps its crop; set, every view uses it. */
class CropScaleSettingsTest {

    private static JobSettings settings(String method, String cropMin) {
        Configuration conf = new Configuration();
        conf.setString("siamstream.method", method);
        if (cropMin != null) {
            conf.setString("siamstream.augment.crop-min-scale", cropMin);
        }
        return JobSettings.from(conf);
    }

    @Test
    void unsetTheMethodsPolicyKeepsItsCrop() {
        assertThat(settings("simsiam", null).view1Policy().cropScaleMin()).isEqualTo(0.2);
        assertThat(settings("simclr", null).view2Policy().cropScaleMin()).isEqualTo(0.2);
        assertThat(settings("byol", null).view1Policy().cropScaleMin()).isEqualTo(0.08);
        assertThat(settings("byol", null).view2Policy().cropScaleMin()).isEqualTo(0.08);
    }

    @Test
    void setEveryViewUsesItAndNothingElseChanges() {
        for (String method : new String[] {"simsiam", "simclr", "mocov2", "byol"}) {
            JobSettings set = settings(method, "0.4");
            JobSettings unset = settings(method, null);
            for (ViewPolicy[] pair : new ViewPolicy[][] {
                    {set.view1Policy(), unset.view1Policy()}, {set.view2Policy(), unset.view2Policy()}}) {
                assertThat(pair[0].cropScaleMin()).as(method).isEqualTo(0.4);
                assertThat(pair[0].withCropScaleMin(pair[1].cropScaleMin())).as(method)
                        .usingRecursiveComparison().isEqualTo(pair[1]);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-0.1", "1.5", "NaN"})
    void outOfRangeFailsNamingTheOptionAndTheRange(String value) {
        assertThatThrownBy(() -> settings("simsiam", value)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("siamstream.augment.crop-min-scale").hasMessageContaining("(0, 1]");
    }
}
