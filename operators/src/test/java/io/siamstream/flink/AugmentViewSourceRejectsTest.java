package io.siamstream.flink;

import static io.siamstream.flink.FlinkTestSupport.CHANNELS;
import static io.siamstream.flink.FlinkTestSupport.RUN_SEED;
import static io.siamstream.flink.FlinkTestSupport.SIZE;
import static io.siamstream.flink.FlinkTestSupport.deadLetters;
import static io.siamstream.flink.FlinkTestSupport.environment;
import static io.siamstream.flink.FlinkTestSupport.expected;
import static io.siamstream.flink.FlinkTestSupport.image;
import static io.siamstream.flink.FlinkTestSupport.policy1;
import static io.siamstream.flink.FlinkTestSupport.policy2;
import static org.assertj.core.api.Assertions.assertThat;

import io.siamstream.augment.ViewPolicies;
import io.siamstream.augment.ViewPolicy;
import io.siamstream.record.DeadLetter;
import io.siamstream.record.ImageRecord;
import io.siamstream.record.View;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** Input the source rejected, and views that come out non-finite, go to the dead letter with their reasons. */
@SuppressWarnings("try")
class AugmentViewSourceRejectsTest {

    private static OneInputStreamOperatorTestHarness<ImageRecord, View> harness(
            AugmentViewFunction function, MockEnvironment env) throws Exception {
        OneInputStreamOperatorTestHarness<ImageRecord, View> harness =
                new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(function), env);
        harness.open();
        return harness;
    }

    @Test
    void aSourceRejectIsDeadLetteredOnceByViewOneWithTheSourcesReason() throws Exception {
        ImageRecord truncated = ImageRecord.rejected(-1, -1, DeadLetters.TRUNCATED, "train.idx: ends early after 3 images");
        ImageRecord undecodable = ImageRecord.rejected(-2, -2, DeadLetters.UNDECODABLE, "a/b.png: cannot be decoded");
        List<ImageRecord> input = List.of(image(0), truncated, image(1), undecodable);

        FlinkTestSupport.Metrics metrics1 = new FlinkTestSupport.Metrics();
        try (MockEnvironment env = environment(metrics1);
             var harness = harness(new AugmentViewFunction(policy1(), 0, RUN_SEED, CHANNELS, SIZE, SIZE), env)) {
            for (ImageRecord r : input) {
                harness.processElement(r, 0);
            }
            assertThat(harness.extractOutputValues())
                    .containsExactly(expected(policy1(), image(0), 0), expected(policy1(), image(1), 0));
            List<DeadLetter> dead = deadLetters(harness);
            assertThat(dead).containsExactly(
                    new DeadLetter("source", "truncated", "train.idx: ends early after 3 images", -1, -1),
                    new DeadLetter("source", "undecodable", "a/b.png: cannot be decoded", -2, -2));
            assertThat(metrics1.count("deadLetters")).isEqualTo(2);
        }
        FlinkTestSupport.Metrics metrics2 = new FlinkTestSupport.Metrics();
        try (MockEnvironment env = environment(metrics2);
             var harness = harness(new AugmentViewFunction(policy2(), 1, RUN_SEED, CHANNELS, SIZE, SIZE), env)) {
            for (ImageRecord r : input) {
                harness.processElement(r, 0);
            }
            assertThat(harness.extractOutputValues()).hasSize(2);
            assertThat(deadLetters(harness)).as("view 2 leaves source rejects to view 1").isEmpty();
            assertThat(metrics2.count("deadLetters")).isZero();
        }
    }

    @Test
    void aViewWithNanValuesGoesToTheDeadLetter() throws Exception {
        // A policy that passes validation but overflows: a brightness factor drawn from [0, 1 + 1e300] is infinite
        // as a float, and 0 x infinity is NaN, which clamping keeps. The operator's last check catches it.
        ViewPolicy overflowing = new ViewPolicy("overflowing", 8, 0.2, 1.0, 0.75, 4.0 / 3.0,
                1.0, 1e300, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 2.0, 0.0, 0.0,
                ViewPolicies.FASHION_MNIST_MEAN, ViewPolicies.FASHION_MNIST_STD);
        ImageRecord dark = image(3);
        java.util.Arrays.fill(dark.pixels, (byte) 0);
        FlinkTestSupport.Metrics metrics = new FlinkTestSupport.Metrics();
        try (MockEnvironment env = environment(metrics);
             var harness = harness(new AugmentViewFunction(overflowing, 0, RUN_SEED, CHANNELS, SIZE, SIZE), env)) {
            harness.processElement(dark, 3);
            assertThat(harness.extractOutputValues()).singleElement()
                    .satisfies(v -> assertThat(v.rejected).isEqualTo("augment-view1: nan-pixels"));
            List<DeadLetter> dead = deadLetters(harness);
            assertThat(dead).extracting(d -> d.reason).containsExactly("nan-pixels");
            assertThat(dead.get(0).detail).contains("overflowing", "non-finite");
            assertThat(dead.get(0).stage).isEqualTo("augment-view1");
            assertThat(metrics.count("views")).isZero();
            assertThat(metrics.count("deadLetters")).isEqualTo(1);
        }
    }

    @Test
    void theRecordWithItsErrorFieldsIsStillAFlinkPojo() {
        assertThat(TypeInformation.of(ImageRecord.class)).isInstanceOf(PojoTypeInfo.class);
        PojoTypeInfo<?> info = (PojoTypeInfo<?>) TypeInformation.of(ImageRecord.class);
        assertThat(info.getFieldIndex("error")).isNotNegative();
        assertThat(info.getFieldIndex("errorDetail")).isNotNegative();
    }
}
