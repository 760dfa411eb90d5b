package io.siamstream.job;

import io.siamstream.augment.ViewPolicies;
import io.siamstream.augment.ViewPolicy;
import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.connectors.idx.FashionMnistEvaluation;
import io.siamstream.connectors.idx.LabeledImages;
import io.siamstream.eval.EvaluationSet;
import io.siamstream.eval.KnnClassifier;
import io.siamstream.method.MethodConfig;
import io.siamstream.method.SimSiamConfig;
import io.siamstream.model.EncoderConfig;
import io.siamstream.model.EncoderKind;
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerConfig;
import io.siamstream.train.OptimizerConfig;
import io.siamstream.train.ReplayTrainer;
import io.siamstream.train.StepResult;
import io.siamstream.record.JsonNumber;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Trains SimSiam on Fashion-MNIST without Flink (the bundled sample by default) and reports progress, the collapse
 * indicator and kNN accuracy against a randomly initialised encoder. The reference run of the learning core; also
 * what the ablation tests call with the paper's switches turned off.
 */
public final class LearnerDemo {

    /**
     * Settings of one run; {@link #parse} reads them from {@code --name value} flags. The cosine schedule spans
     * {@code scheduleSteps} (0: the run's {@code steps}), so a short run can train at a nearly constant rate.
     */
    public record Settings(
            int steps, long scheduleSteps, int batchSize, double baseLr, long seed, String device, String data, Path output,
            int evalEvery, boolean stopGradient, boolean predictor, EncoderKind encoder,
            String method, String optimizer, double weightDecay, double larsEta, int queueSize) {

        /** SimSiam with SGD (the paper's CIFAR weight decay 5e-4). */
        public Settings(int steps, long scheduleSteps, int batchSize, double baseLr, long seed, String device,
                String data, Path output, int evalEvery, boolean stopGradient, boolean predictor, EncoderKind encoder) {
            this(steps, scheduleSteps, batchSize, baseLr, seed, device, data, output, evalEvery, stopGradient,
                    predictor, encoder, "simsiam", "sgd", 5e-4, OptimizerConfig.LARS_ETA, 0);
        }

        public static Settings defaults() {
            return new Settings(600, 0, 128, 0.06, 42, "auto", "bundled", Path.of("out/learner-demo"), 200,
                    true, true, EncoderKind.CONVNET);
        }

        /** The same run with another method, optimizer, base lr and weight decay. */
        public Settings withMethod(String m, String opt, double lr, double wd) {
            return new Settings(steps, scheduleSteps, batchSize, lr, seed, device, data, output, evalEvery,
                    stopGradient, predictor, encoder, m, opt, wd, larsEta, queueSize);
        }

        public Settings withDevice(String d) {
            return new Settings(steps, scheduleSteps, batchSize, baseLr, seed, d, data, output, evalEvery,
                    stopGradient, predictor, encoder, method, optimizer, weightDecay, larsEta, queueSize);
        }

        /** MoCo's queue size K (0: the method's default). */
        public Settings withQueueSize(int k) {
            return new Settings(steps, scheduleSteps, batchSize, baseLr, seed, device, data, output, evalEvery,
                    stopGradient, predictor, encoder, method, optimizer, weightDecay, larsEta, k);
        }

        public Settings withLarsEta(double eta) {
            return new Settings(steps, scheduleSteps, batchSize, baseLr, seed, device, data, output, evalEvery,
                    stopGradient, predictor, encoder, method, optimizer, weightDecay, eta, queueSize);
        }

        public static Settings parse(String[] args) {
            Map<String, String> flags = new TreeMap<>();
            for (int i = 0; i < args.length; i++) {
                if (!args[i].startsWith("--") || i + 1 >= args.length) {
                    throw new IllegalArgumentException("expected --name value pairs, got '" + args[i] + "'; flags: "
                            + "--steps --schedule-steps --batch --base-lr --seed --device --data --out --eval-every "
                            + "--stop-gradient --predictor --encoder --method --optimizer --weight-decay --lars-eta --queue");
                }
                flags.put(args[i].substring(2), args[++i]);
            }
            Settings d = defaults();
            Settings s = new Settings(
                    Integer.parseInt(flags.getOrDefault("steps", "" + d.steps)),
                    Long.parseLong(flags.getOrDefault("schedule-steps", "0")),
                    Integer.parseInt(flags.getOrDefault("batch", "" + d.batchSize)),
                    Double.parseDouble(flags.getOrDefault("base-lr", "" + d.baseLr)),
                    Long.parseLong(flags.getOrDefault("seed", "" + d.seed)),
                    flags.getOrDefault("device", d.device),
                    flags.getOrDefault("data", d.data),
                    Path.of(flags.getOrDefault("out", d.output.toString())),
                    Integer.parseInt(flags.getOrDefault("eval-every", "" + d.evalEvery)),
                    Boolean.parseBoolean(flags.getOrDefault("stop-gradient", "true")),
                    Boolean.parseBoolean(flags.getOrDefault("predictor", "true")),
                    EncoderKind.parse("--encoder", flags.getOrDefault("encoder", "convnet")),
                    flags.getOrDefault("method", d.method),
                    flags.getOrDefault("optimizer", d.optimizer),
                    Double.parseDouble(flags.getOrDefault("weight-decay", "" + d.weightDecay)),
                    Double.parseDouble(flags.getOrDefault("lars-eta", "" + d.larsEta)),
                    Integer.parseInt(flags.getOrDefault("queue", "0")));
            flags.keySet().removeAll(java.util.Set.of("steps", "schedule-steps", "batch", "base-lr", "seed", "device", "data", "out",
                    "eval-every", "stop-gradient", "predictor", "encoder", "method", "optimizer", "weight-decay",
                    "lars-eta", "queue"));
            if (!flags.isEmpty()) {
                throw new IllegalArgumentException("unknown flag(s) " + flags.keySet());
            }
            return s;
        }

        public MethodConfig methodConfig() {
            MethodConfig m = MethodConfig.parse("--method", method);
            if (m instanceof SimSiamConfig) {
                return new SimSiamConfig(stopGradient, predictor, false);
            }
            return m instanceof io.siamstream.method.MocoConfig moco && queueSize > 0 ? moco.withQueueSize(queueSize) : m;
        }

        public LearnerConfig learnerConfig() {
            MethodConfig m = methodConfig();
            OptimizerConfig opt = OptimizerConfig.simSiamCifar(scheduleSteps > 0 ? scheduleSteps : steps)
                    .withBaseLr(baseLr).withWeightDecay(weightDecay);
            opt = switch (optimizer) {
                case "sgd" -> opt;
                case "lars" -> opt.withLars(larsEta);
                default -> throw new IllegalArgumentException("--optimizer: '" + optimizer + "' is not an optimizer; "
                        + "allowed: " + OptimizerConfig.ALLOWED_KINDS);
            };
            return new LearnerConfig(m, new EncoderConfig(encoder, 1, 1.0), m.smallHeads(), 1, 28, batchSize,
                    opt, seed, device);
        }
    }

    /** What a run ends with. */
    public record Outcome(StepResult last, double knnRandom, double knnTrained, double pairsPerSecond,
            long stateBytes, LearnerDemo.Probe probe) {}

    /** Linear-probe accuracy of the final encoder, when asked for. */
    public record Probe(double linearTop1) {}

    private LearnerDemo() {}

    public static void main(String[] args) throws IOException {
        Settings settings = Settings.parse(args);
        Outcome outcome = run(settings, true);
        StepResult last = outcome.last();
        System.out.printf(Locale.ROOT, "done: kNN top-1 %.3f (random encoder %.3f), projection std %.4f output std %.4f (healthy %.4f)%n",
                outcome.knnTrained(), outcome.knnRandom(), last.projectionStd(), last.outputStd(),
                last.healthyStd());
    }

    public static Outcome run(Settings settings, boolean print) throws IOException {
        return run(settings, print, false);
    }

    /** Trains, then measures kNN (and the linear probe when {@code probe}) of the final encoder. */
    public static Outcome run(Settings settings, boolean print, boolean probe) throws IOException {
        LabeledImages train = load(settings.data(), FashionMnist.Split.TRAIN);
        LabeledImages test = load(settings.data(), FashionMnist.Split.TEST);
        ViewPolicy policy = ViewPolicies.fashionMnist();
        EvaluationSet evaluation = FashionMnistEvaluation.of(train, test,
                ViewPolicies.FASHION_MNIST_MEAN[0], ViewPolicies.FASHION_MNIST_STD[0]);
        Files.createDirectories(settings.output());
        try (Learner learner = Learner.create(settings.learnerConfig());
             PrintWriter metrics = new PrintWriter(Files.newBufferedWriter(settings.output().resolve("steps.jsonl")))) {
            if (print) {
                System.out.printf(Locale.ROOT, "siamstream learner demo: %s, %s, %s on %s, "
                                + "%d train / %d test images, batch %d, %d steps, device %s%n",
                        settings.learnerConfig().method(), settings.learnerConfig().optimizer().kind(),
                        settings.encoder(), settings.data(),
                        train.count(), test.count(), settings.batchSize(), settings.steps(), learner.device());
            }
            double knnRandom = knn(learner, evaluation);
            if (print) {
                System.out.printf(Locale.ROOT, "step 0: kNN top-1 of the randomly initialised encoder %.3f%n", knnRandom);
            }
            ReplayTrainer trainer = new ReplayTrainer(learner, train.asImages(), policy, policy, settings.seed());
            long start = System.nanoTime();
            double[] knnLatest = {knnRandom};
            StepResult last = trainer.train(settings.steps(), r -> {
                metrics.printf(Locale.ROOT, "{\"step\":%d,\"loss\":%s,\"projection_std\":%s,\"output_std\":%s,\"lr\":%s,\"ms\":%.1f,\"skipped\":%s}%n",
                        r.step(), JsonNumber.of(r.loss(), "%.6f"), JsonNumber.of(r.projectionStd(), "%.6f"),
                        JsonNumber.of(r.outputStd(), "%.6f"), JsonNumber.of(r.lr(), "%.6g"), r.millis(), r.skipped());
                boolean eval = settings.evalEvery() > 0 && r.step() % settings.evalEvery() == 0;
                if (eval) {
                    knnLatest[0] = knn(learner, evaluation);
                }
                if (print && (r.step() % 20 == 0 || eval)) {
                    double seconds = (System.nanoTime() - start) / 1e9;
                    System.out.printf(Locale.ROOT,
                            "step %5d | %6.1f pairs/s | loss %+.4f | projection std %.4f output std %.4f (healthy %.4f) | lr %.4f | kNN %.3f%n",
                            r.step(), r.step() * settings.batchSize() / seconds, r.loss(), r.projectionStd(),
                            r.outputStd(), r.healthyStd(), r.lr(), knnLatest[0]);
                }
            });
            double seconds = (System.nanoTime() - start) / 1e9;
            double knnTrained = knn(learner, evaluation);
            long stateBytes = io.siamstream.train.LearnerStateCodec.encode(learner.snapshot()).length;
            return new Outcome(last, knnRandom, knnTrained, settings.steps() * (double) settings.batchSize() / seconds,
                    stateBytes, probe ? new Probe(linearProbe(learner, evaluation)) : null);
        }
    }

    /** kNN top-1 of the live encoder: the test split queried against the train split as the labelled bank. */
    public static double knn(Learner learner, EvaluationSet set) {
        float[] bank = learner.embed(set.bank(), set.bankLabels().length);
        float[] queries = learner.embed(set.queries(), set.queryLabels().length);
        return KnnClassifier.standard(set.numClasses())
                .accuracy(bank, set.bankLabels(), queries, set.queryLabels(), learner.featureDim());
    }

    /** Linear-probe top-1 of the live encoder (softmax regression on frozen features, train split to test split). */
    public static double linearProbe(Learner learner, EvaluationSet set) {
        float[] bank = learner.embed(set.bank(), set.bankLabels().length);
        float[] queries = learner.embed(set.queries(), set.queryLabels().length);
        return io.siamstream.eval.LinearProbe.standard(set.numClasses())
                .accuracy(bank, set.bankLabels(), queries, set.queryLabels(), learner.featureDim());
    }

    static LabeledImages load(String data, FashionMnist.Split split) throws IOException {
        return data.equals("bundled") ? FashionMnist.sample(split) : FashionMnist.read(Path.of(data), split);
    }
}
