package io.siamstream.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.siamstream.job.LearnerDemo;
import io.siamstream.model.EncoderKind;
import io.siamstream.train.StepResult;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SimSiam paper's ablations on the bundled Fashion-MNIST sample (small ConvNet, batch 128, fixed seed), each a
 * short run at a nearly constant learning rate (base lr 0.5 x 128/256 = 0.25, cosine over 10x the run).
 *
 * <p>The collapse indicator is the std over the batch of each dimension of the l2-normalised output, averaged over
 * dimensions; healthy is about 1/sqrt(dim) = 0.0625, collapse is 0. It is read on the online output p that the loss
 * compares: the projector's last layer is a batch norm without affine parameters, so in training mode z keeps zero
 * mean and unit variance per dimension and its indicator cannot reach 0 whatever happens (measured: it halves).
 */
class SimSiamAblationTest {

    private static final int STEPS = 400;
    private static final double BASE_LR = 0.5;

    private static LearnerDemo.Outcome run(Path out, boolean stopGradient, boolean predictor) throws Exception {
        LearnerDemo.Settings settings = new LearnerDemo.Settings(STEPS, 10L * STEPS, 128, BASE_LR, 42, "cpu", "bundled",
                out, 0, stopGradient, predictor, EncoderKind.CONVNET);
        LearnerDemo.Outcome outcome = LearnerDemo.run(settings, false);
        StepResult last = outcome.last();
        System.out.printf(java.util.Locale.ROOT,
                "ablation stop-gradient=%s predictor=%s: loss %.4f, projection std %.4f output std %.4f (healthy %.4f), "
                        + "kNN %.3f (random encoder %.3f)%n", stopGradient, predictor, last.loss(), last.projectionStd(),
                last.outputStd(), last.healthyStd(), outcome.knnTrained(), outcome.knnRandom());
        return outcome;
    }

    @Test
    void withStopGradientAndPredictorItLearnsWithoutCollapse(@TempDir Path out) throws Exception {
        LearnerDemo.Outcome outcome = run(out, true, true);
        StepResult last = outcome.last();
        assertThat(last.outputStd()).as("indicator on p").isGreaterThan(0.75 * last.healthyStd());
        assertThat(last.projectionStd()).as("indicator on z").isGreaterThan(0.75 * last.healthyStd());
        assertThat(last.loss()).as("the views agree better than at the start (0)").isLessThan(-0.5);
        assertThat(outcome.knnTrained()).as("kNN of the trained encoder vs a random one")
                .isGreaterThan(outcome.knnRandom() + KNN_MARGIN);
    }

    @Test
    void withoutStopGradientItCollapses(@TempDir Path out) throws Exception {
        LearnerDemo.Outcome outcome = run(out, false, true);
        StepResult last = outcome.last();
        assertThat(last.outputStd()).as("indicator on p").isLessThan(0.2 * last.healthyStd());
        assertThat(outcome.knnTrained()).as("the collapsed encoder is worse than a random one")
                .isLessThan(outcome.knnRandom() - KNN_MARGIN);
    }

    /** Set from measured runs; see the README's ablation table. */
    private static final double KNN_MARGIN = 0.02;
}
