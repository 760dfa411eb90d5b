package io.siamstream.bench;

import io.siamstream.job.LearnerDemo;
import io.siamstream.model.EncoderKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The four methods on Fashion-MNIST with the same budget (steps, batch, encoder, seed, data): kNN and linear-probe
 * top-1 of the final encoder, pairs/s of the training loop, and the size of one checkpoint of the learner state
 * (everything a restore needs: parameters, optimizer buffers, momentum network, queue). Each method runs with its
 * paper's optimizer (SimSiam and MoCo v2: SGD; BYOL and SimCLR: LARS) at a learning rate set for this short budget;
 * LARS with trust coefficient 0.02 (the papers' 0.001 barely moves a small network in a few hundred steps) and MoCo
 * with a queue of 512 keys (the default 4,096 would hold the previous epoch's key of every image of the 4,000-image
 * sample as a negative of itself).
 *
 * <p>Usage: {@code MethodComparison [steps] [batch] [data] [output.md] [methods]}; defaults 300, 64, bundled,
 * bench/results/method-comparison.md, all four methods (or a comma-separated subset).
 */
public final class MethodComparison {

    /** One method's recipe for the comparison. */
    public record Recipe(String method, String optimizer, double baseLr, double weightDecay, double larsEta,
                         int queueSize) {}

    /** The recipes: the papers' optimizers; rates chosen for a short run (see the README). */
    public static final List<Recipe> RECIPES = List.of(
            new Recipe("simsiam", "sgd", 0.5, 5e-4, 0, 0),
            new Recipe("byol", "lars", 1.0, 1e-5, 0.02, 0),
            new Recipe("simclr", "lars", 1.0, 1e-5, 0.02, 0),
            new Recipe("moco", "sgd", 0.12, 5e-4, 0, 512));

    private MethodComparison() {}

    /** The settings of one method's run (the cosine spans 10x the run, so the rate stays near its peak). */
    public static LearnerDemo.Settings settings(Recipe r, int steps, int batch, String data, Path out) {
        return new LearnerDemo.Settings(steps, 10L * steps, batch, r.baseLr(), 42, "auto", data, out, 0, true, true,
                EncoderKind.CONVNET).withMethod(r.method(), r.optimizer(), r.baseLr(), r.weightDecay())
                .withLarsEta(r.larsEta() > 0 ? r.larsEta() : io.siamstream.train.OptimizerConfig.LARS_ETA)
                .withQueueSize(r.queueSize());
    }

    public static void main(String[] args) throws Exception {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        String data = args.length > 2 ? args[2] : "bundled";
        Path output = Path.of(args.length > 3 ? args[3] : "bench/results/method-comparison.md");
        List<String> only = args.length > 4 ? List.of(args[4].split(",")) : List.of();
        List<String> rows = new ArrayList<>();
        double random = Double.NaN;
        for (Recipe r : RECIPES) {
            if (!only.isEmpty() && !only.contains(r.method())) {
                continue;
            }
            LearnerDemo.Outcome o = LearnerDemo.run(
                    settings(r, steps, batch, data, Files.createTempDirectory("siamstream-compare")), false, true);
            random = o.knnRandom();
            String row = String.format(Locale.ROOT, "| %s | %s, base lr %s%s | %.3f | %.3f | %.0f | %.1f MiB |",
                    r.method(), r.optimizer(), r.baseLr(), r.queueSize() > 0 ? ", queue " + r.queueSize() : "", o.knnTrained(), o.probe().linearTop1(), o.pairsPerSecond(),
                    o.stateBytes() / (1024.0 * 1024.0));
            System.out.println(row);
            rows.add(row);
        }
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "Fashion-MNIST (%s), ConvNet, batch %d, %d steps, seed 42, "
                + "`bash bench/method-comparison.sh %d %d`; randomly initialised encoder: kNN %.3f.%n%n",
                data, batch, steps, steps, batch, random));
        md.append("| method | optimizer | kNN top-1 | linear probe | pairs/s | checkpoint state |\n");
        md.append("|---|---|---|---|---|---|\n");
        rows.forEach(r -> md.append(r).append('\n'));
        Files.createDirectories(output.toAbsolutePath().getParent());
        Files.writeString(output, md.toString());
        System.out.print(md);
    }
}
