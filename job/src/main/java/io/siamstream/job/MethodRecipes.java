package io.siamstream.job;

import io.siamstream.model.EncoderKind;
import io.siamstream.train.OptimizerConfig;
import java.nio.file.Path;
import java.util.List;

/**
 * The four methods' recipes for a short {@link LearnerDemo} run on Fashion-MNIST with one budget: each with its
 * paper's optimizer (SimSiam and MoCo v2: SGD; BYOL and SimCLR: LARS) at a learning rate set for a few hundred steps;
 * LARS with trust coefficient 0.02 (the papers' 0.001 barely moves a small network in a few hundred steps) and MoCo
 * with a queue of 512 keys (the default 4,096 would hold the previous epoch's key of every image of the 4,000-image
 * sample as a negative of itself). {@code MethodsLearnTest} trains with them, and so does the comparison benchmark
 * ({@code io.siamstream.bench.MethodComparison}, bench module) whose table the README shows.
 */
public final class MethodRecipes {

    /** One method's recipe. */
    public record Recipe(String method, String optimizer, double baseLr, double weightDecay, double larsEta,
                         int queueSize) {}

    /** The recipes: the papers' optimizers; rates chosen for a short run (see the README). */
    public static final List<Recipe> RECIPES = List.of(
            new Recipe("simsiam", "sgd", 0.5, 5e-4, 0, 0),
            new Recipe("byol", "lars", 1.0, 1e-5, 0.02, 0),
            new Recipe("simclr", "lars", 1.0, 1e-5, 0.02, 0),
            new Recipe("moco", "sgd", 0.12, 5e-4, 0, 512));

    private MethodRecipes() {}

    /** The settings of one method's run (the cosine spans 10x the run, so the rate stays near its peak). */
    public static LearnerDemo.Settings settings(Recipe r, int steps, int batch, String data, Path out) {
        return new LearnerDemo.Settings(steps, 10L * steps, batch, r.baseLr(), 42, "auto", data, out, 0, true, true,
                EncoderKind.CONVNET).withMethod(r.method(), r.optimizer(), r.baseLr(), r.weightDecay())
                .withLarsEta(r.larsEta() > 0 ? r.larsEta() : OptimizerConfig.LARS_ETA)
                .withQueueSize(r.queueSize());
    }
}
