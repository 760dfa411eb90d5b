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
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.augment.ViewPolicies;
import io.siamstream.augment.ViewPolicy;
import io.siamstream.record.DeadLetter;
import io.siamstream.record.ImageRecord;
import io.siamstream.record.View;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.Test;

/** The augmentation operator in Flink's one-input test harness. */
@SuppressWarnings("try") // harnesses and environments are closed by try-with-resources
class AugmentViewFunctionTest {

    private static OneInputStreamOperatorTestHarness<ImageRecord, View> harness(
            AugmentViewFunction function, MockEnvironment env) throws Exception {
        OneInputStreamOperatorTestHarness<ImageRecord, View> harness =
                new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(function), env);
        harness.open();
        return harness;
    }

    @Test
    void viewsAreDeterministicAndEqualViewsMake() throws Exception {
        FlinkTestSupport.Metrics metrics = new FlinkTestSupport.Metrics();
        try (MockEnvironment env = environment(metrics);
             var harness = harness(new AugmentViewFunction(policy2(), 1, RUN_SEED, CHANNELS, SIZE, SIZE), env)) {
            List<View> expected = new ArrayList<>();
            for (long seq : new long[] {0, 1, 2, 21, 0, 1}) { // seq 21 is image 1 again in epoch 1
                harness.processElement(image(seq), seq);
                expected.add(expected(policy2(), image(seq), 1));
            }
            List<View> views = harness.extractOutputValues();
            assertThat(views).containsExactlyElementsOf(expected);
            assertThat(views.get(4)).isEqualTo(views.get(0)); // the same record gives the same view
            assertThat(views.get(3).data).isNotEqualTo(views.get(1).data); // another epoch, another view
            assertThat(views).allSatisfy(v -> {
                assertThat(v.view).isEqualTo(1);
                assertThat(v.height).isEqualTo(FlinkTestSupport.VIEW_SIZE);
                assertThat(v.data).hasSize(CHANNELS * FlinkTestSupport.VIEW_SIZE * FlinkTestSupport.VIEW_SIZE);
            });
            assertThat(deadLetters(harness)).isEmpty();
            assertThat(metrics.count("views")).isEqualTo(6);
            assertThat(metrics.count("deadLetters")).isZero();
        }
    }

    @Test
    void badRecordsGoToTheDeadLetterSideOutputAndNothingIsLost() throws Exception {
        ImageRecord noPixels = image(1);
        noPixels.pixels = null;
        ImageRecord emptyPixels = image(2);
        emptyPixels.pixels = new byte[0];
        ImageRecord wrongSize = image(3);
        wrongSize.pixels = new byte[SIZE * SIZE - 1];
        ImageRecord negative = image(4);
        negative.height = -SIZE;
        negative.width = -SIZE;
        ImageRecord colour = new ImageRecord(5, 5, 0, 3, SIZE, SIZE, new byte[3 * SIZE * SIZE], 0);
        ImageRecord wrongShape = new ImageRecord(6, 6, 0, 1, 10, 10, new byte[100], 0);
        List<ImageRecord> input = List.of(image(0), noPixels, emptyPixels, image(10), wrongSize, negative, colour,
                wrongShape, image(11));

        FlinkTestSupport.Metrics metrics = new FlinkTestSupport.Metrics();
        try (MockEnvironment env = environment(metrics);
             var harness = harness(new AugmentViewFunction(policy1(), 0, RUN_SEED, CHANNELS, SIZE, SIZE), env)) {
            for (ImageRecord r : input) {
                harness.processElement(r, r.seq);
            }
            List<View> out = harness.extractOutputValues();
            assertThat(out).filteredOn(v -> v.rejected == null).containsExactly(
                    expected(policy1(), image(0), 0), expected(policy1(), image(10), 0), expected(policy1(), image(11), 0));
            // every rejected record's half goes on without data, so that pairing resolves its seq as a skip marker
            assertThat(out).filteredOn(v -> v.rejected != null).extracting(v -> v.seq, v -> v.view, v -> v.data)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(1L, 0, null),
                            org.assertj.core.groups.Tuple.tuple(2L, 0, null), org.assertj.core.groups.Tuple.tuple(3L, 0, null),
                            org.assertj.core.groups.Tuple.tuple(4L, 0, null), org.assertj.core.groups.Tuple.tuple(5L, 0, null),
                            org.assertj.core.groups.Tuple.tuple(6L, 0, null));
            assertThat(out.get(1).rejected).isEqualTo("augment-view1: no-pixels");
            List<DeadLetter> dead = deadLetters(harness);
            assertThat(dead).extracting(d -> d.reason).containsExactly(
                    "no-pixels", "no-pixels", "wrong-size", "wrong-size", "wrong-channels", "wrong-shape");
            assertThat(dead).extracting(d -> d.seq).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
            assertThat(dead).allSatisfy(d -> {
                assertThat(d.stage).isEqualTo("augment-view1");
                assertThat(d.detail).isNotBlank();
            });
            assertThat(dead.get(5).detail).contains("1x10x10", "expected 1x12x12");
            assertThat(metrics.count("views")).isEqualTo(3);
            assertThat(metrics.count("deadLetters")).isEqualTo(6);
            assertThat(out).extracting(v -> v.seq).as("every record leaves as a view or a rejected half")
                    .containsExactlyElementsOf(input.stream().map(r -> r.seq).toList());
        }
    }

    @Test
    void policiesThatWouldMakeNonFiniteViewsAreRefusedAtStart() {
        // std = the smallest float: 1/std overflows to infinity and every view would be inf and NaN; a NaN mean
        // likewise. Both fail when the policy is configured, naming the option, instead of dead-lettering every record.
        assertThatThrownBy(() -> ViewPolicies.simSiamSmall(8, new float[] {0.5f}, new float[] {Float.MIN_VALUE}))
                .hasMessageContaining("augment.simsiam-small.std");
        assertThatThrownBy(() -> ViewPolicies.simSiamSmall(8, new float[] {Float.NaN}, new float[] {0.5f}))
                .hasMessageContaining("augment.simsiam-small.mean");
    }

    @Test
    void theFunctionSurvivesJavaSerialisationAsFlinkShipsIt() throws Exception {
        AugmentViewFunction original = new AugmentViewFunction(policy1(), 0, RUN_SEED, CHANNELS, SIZE, SIZE);
        AugmentViewFunction copy = InstantiationUtil.clone(original);
        FlinkTestSupport.Metrics metrics = new FlinkTestSupport.Metrics();
        try (MockEnvironment env = environment(metrics); var harness = harness(copy, env)) {
            harness.processElement(image(3), 3);
            assertThat(harness.extractOutputValues()).containsExactly(expected(policy1(), image(3), 0));
        }
    }

    @Test
    void misconfigurationFailsAtConstruction() {
        assertThatThrownBy(() -> new AugmentViewFunction(policy1(), 2, RUN_SEED, CHANNELS, SIZE, SIZE))
                .hasMessageContaining("view index 2");
        assertThatThrownBy(() -> new AugmentViewFunction(policy1(), 0, RUN_SEED, 3, SIZE, SIZE))
                .hasMessageContaining("1-channel");
        assertThatThrownBy(() -> new AugmentViewFunction(policy1(), 0, RUN_SEED, CHANNELS, 0, SIZE))
                .hasMessageContaining("not positive");
    }
}
