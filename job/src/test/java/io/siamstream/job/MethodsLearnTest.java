package io.siamstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
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
        assertThat(outcome.last().skipped()).isFalse();
        assertThat(outcome.knnTrained()).as(method + ": kNN of the trained encoder vs a random one")
                .isGreaterThan(outcome.knnRandom() + KNN_MARGIN);
    }
}
