package io.siamstream.bench;

import io.siamstream.job.LearnerDemo;
import io.siamstream.job.MethodRecipes;
import io.siamstream.job.MethodRecipes.Recipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The four methods on Fashion-MNIST with the same budget (steps, batch, encoder, seed, data): kNN and linear-probe
 * top-1 of the final encoder, pairs/s of the training loop, and the size of one checkpoint of the learner state
 * (everything a restore needs: parameters, optimizer buffers, momentum network, queue). Each method runs with its
 * recipe from {@link MethodRecipes} (the papers' optimizers, rates set for this short budget).
 *
 * <p>Usage: {@code MethodComparison [steps] [batch] [data] [output.md] [methods]}; defaults 300, 64, bundled,
 * bench/results/method-comparison.md, all four methods (or a comma-separated subset).
 */
public final class MethodComparison {

    private MethodComparison() {}

    public static void main(String[] args) throws Exception {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        String data = args.length > 2 ? args[2] : "bundled";
        Path output = Path.of(args.length > 3 ? args[3] : "bench/results/method-comparison.md");
        List<String> only = args.length > 4 ? List.of(args[4].split(",")) : List.of();
        List<String> rows = new ArrayList<>();
        double random = Double.NaN;
        for (Recipe r : MethodRecipes.RECIPES) {
            if (!only.isEmpty() && !only.contains(r.method())) {
                continue;
            }
            LearnerDemo.Outcome o = LearnerDemo.run(
                    MethodRecipes.settings(r, steps, batch, data, Files.createTempDirectory("siamstream-compare")), false, true);
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
