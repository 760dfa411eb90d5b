package io.siamstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/** The baselines on the bundled sample (4,000 bank / 1,000 query images), as the README reports them. */
class KnnBaselinesTest {

    private static final JobSettings SAMPLE = JobSettings.from(new Configuration());

    @Test
    void rawPixelsOnTheSample() {
        KnnBaselines.Result r = KnnBaselines.rawPixels(SAMPLE);
        assertThat(r.bank()).isEqualTo(4000);
        assertThat(r.queries()).isEqualTo(1000);
        assertThat(r.dim()).isEqualTo(784);
        // checked independently with numpy: same normalisation, cosine, top-200, exp(s / 0.1) votes
        assertThat(r.knnTop1()).isCloseTo(0.750, within(1e-9));
    }

    @Test
    void aRandomEncoderIsWellAboveChanceAndBelowRawPixels() {
        KnnBaselines.Result r = KnnBaselines.randomEncoder(SAMPLE);
        assertThat(r.dim()).isEqualTo(256);
        assertThat(r.knnTop1()).as("random ConvNet features (10 classes: chance 0.1)").isBetween(0.5, 0.7);
        assertThat(r.knnTop1()).isLessThan(KnnBaselines.rawPixels(SAMPLE).knnTop1());
    }
}
