package io.siamstream.bench;

import ai.djl.ndarray.NDManager;
import io.siamstream.augment.ViewPolicies;
import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.train.Engines;
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerConfig;
import io.siamstream.train.ReplayTrainer;
import java.io.IOException;
import java.util.Locale;

/**
 * Trains SimSiam (small ConvNet, bundled sample) for many steps and samples, every {@code every} steps, the number
 * of live native arrays (the learner's and the whole engine's) and the process's resident memory (VmRSS).
 * Exits with status 1 if the array counts change or resident memory grows by more than {@code maxGrowthMb}
 * over the second half of the run (the first half lets allocator pools and JIT settle).
 *
 * <p>Usage: NativeMemorySoak [steps=2000] [batch=64] [every=100] [maxGrowthMb=64]
 */
public final class NativeMemorySoak {

    private NativeMemorySoak() {}

    public static void main(String[] args) throws IOException {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int every = args.length > 2 ? Integer.parseInt(args[2]) : 100;
        long maxGrowthMb = args.length > 3 ? Long.parseLong(args[3]) : 64;

        NDManager probe = Engines.pyTorch().newBaseManager();
        NDManager system = probe.getParentManager();
        probe.close();
        LearnerConfig config = LearnerConfig.smallConvNet(batch, steps, 1);
        System.out.println("| step | learner arrays | engine arrays | RSS MiB |");
        System.out.println("|---:|---:|---:|---:|");
        long midRss = -1;
        long lastRss = -1;
        int firstLearner = -1;
        int firstSystem = -1;
        boolean countsChanged = false;
        try (Learner learner = Learner.create(config)) {
            var train = FashionMnist.sample(FashionMnist.Split.TRAIN).asImages();
            var policy = ViewPolicies.fashionMnist();
            ReplayTrainer trainer = new ReplayTrainer(learner, train, policy, policy, 1);
            for (int done = 0; done < steps; done += every) {
                trainer.train(Math.min(every, steps - done), r -> { });
                int learnerArrays = learner.managedArrayCount();
                int systemArrays = system.getManagedArrays().size();
                long rss = BenchProbes.rssMiB();
                if (firstLearner < 0) {
                    firstLearner = learnerArrays;
                    firstSystem = systemArrays;
                }
                countsChanged |= learnerArrays != firstLearner || systemArrays != firstSystem;
                if (midRss < 0 && learner.steps() >= steps / 2) {
                    midRss = rss;
                }
                lastRss = rss;
                System.out.printf(Locale.ROOT, "| %d | %d | %d | %d |%n", learner.steps(), learnerArrays, systemArrays, rss);
            }
        }
        long growth = lastRss - midRss;
        System.out.printf(Locale.ROOT, "arrays constant: %s; RSS growth over the second half: %d MiB (limit %d)%n",
                !countsChanged, growth, maxGrowthMb);
        if (countsChanged || growth > maxGrowthMb) {
            System.exit(1);
        }
    }
}
