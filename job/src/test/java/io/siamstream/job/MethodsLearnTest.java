package io.siamstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * BYOL, SimCLR and MoCo v2 each learn on the bundled Fashion-MNIST sample: after a short run (small ConvNet, batch
 * 64, 300 steps, each with the recipe of the README's comparison) the encoder's kNN top-1 beats a randomly
 * initialised one's. The learner alone runs (no Flink), so the test lives beside LearnerDemo in the job module.
 * SimSiam's own learning test is {@code StreamingJobTest}'s learning run, through the real job (tests module).
 */
class MethodsLearnTest {

    private static final int STEPS = 300;
    private static final int BATCH = 64;
    /** Set from measured runs; see the README's comparison table. */
    private static final double KNN_MARGIN = 0.02;

    @ParameterizedTest
    @ValueSource(strings = {"byol", "simclr", "moco"})
    void beatsARandomEncoder(String method, @TempDir Path out) throws Exception {
        MethodRecipes.Recipe recipe = MethodRecipes.RECIPES.stream()
                .filter(r -> r.method().equals(method)).findFirst().orElseThrow();
        LearnerDemo.Settings settings = MethodRecipes.settings(recipe, STEPS, BATCH, "bundled", out)
                .withDevice("cpu");
        LearnerDemo.Outcome outcome = LearnerDemo.run(settings, false);
        System.out.printf(java.util.Locale.ROOT, "%s: loss %.4f, projection std %.4f output std %.4f (healthy %.4f), kNN %.3f "
                        + "(random encoder %.3f)%n", method, outcome.last().loss(), outcome.last().projectionStd(),
                outcome.last().outputStd(), outcome.last().healthyStd(), outcome.knnTrained(),
                outcome.knnRandom());
        // The loss curve goes into the messages: it tells a run that went wrong at one step from one that drifted,
        // which the final numbers alone cannot.
        String curve = lossCurve(out.resolve("steps.jsonl"));
        assertThat(outcome.last().skipped()).as(method + ": last step skipped; losses " + curve).isFalse();
        assertThat(outcome.knnTrained()).as(method + ": kNN of the trained encoder vs a random one; losses " + curve)
                .isGreaterThan(outcome.knnRandom() + KNN_MARGIN);
    }

    /** Every 25th step's loss, and the steps skipped for a non-finite loss, from the learner's step metrics. */
    private static String lossCurve(Path steps) throws IOException {
        StringBuilder curve = new StringBuilder();
        List<String> skipped = new ArrayList<>();
        Pattern field = Pattern.compile(
                "\"step\":(\\d+),\"loss\":([^,]+),.*\"skipped\":(true|false)");
        for (String line : Files.readAllLines(steps)) {
            Matcher m = field.matcher(line);
            if (!m.find()) {
                continue;
            }
            if (m.group(3).equals("true")) {
                skipped.add(m.group(1));
            }
            if (Long.parseLong(m.group(1)) % 25 == 0) {
                curve.append(curve.length() == 0 ? "" : " ").append(m.group(1)).append(':').append(m.group(2));
            }
        }
        return curve + (skipped.isEmpty() ? "" : "; skipped steps " + skipped);
    }
}
