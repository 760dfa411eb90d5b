package io.siamstream.bench;

import ai.djl.pytorch.jni.JniUtils;
import io.siamstream.method.SimSiamConfig;
import io.siamstream.model.EncoderConfig;
import io.siamstream.model.EncoderKind;
import io.siamstream.model.HeadConfig;
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerConfig;
import io.siamstream.train.OptimizerConfig;
import io.siamstream.train.StepResult;
import io.siamstream.train.ViewBatch;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Times {@link Learner#step} (one full SimSiam step: both views forward, symmetric loss with stop-gradient, backward,
 * SGD momentum update) on random normal views, for comparison with bench/pytorch_step.py, which builds the same model
 * in plain PyTorch. Prints the trainable parameter count, then one JSON line with the median time per step and the
 * process CPU time per timed step (all threads: on a shared machine the CPU time moves much less than the wall time,
 * because time spent descheduled is not counted).
 *
 * <p>Usage: {@code StepBenchmark MODEL BATCH [WARMUP [STEPS]]} with MODEL one of convnet, resnet18-half, resnet18.
 * With STEPS {@code serve} it runs the warm-up, prints a ready line, then serves turns for bench/step_pairs.py: each
 * line N on stdin runs N timed steps and answers one JSON line with their wall times and the process CPU time they
 * took; end of input ends it. The driver alternates the two sides' turns while both stay warm, so that the machine's
 * slow drifts fall on both sides of every pair.
 * Run with {@code -Dai.djl.offline=true -DOPT_OUT_TRACKING=true}; the engine's thread count follows
 * OMP_NUM_THREADS or {@code -Dai.djl.pytorch.num_threads}. With PROFILE_TRACE set, PROFILE_STEPS (default 2) more steps
 * run under libtorch's profiler and its Chrome trace is written there.
 */
public final class StepBenchmark {

    private static final int POOL = 4;

    private StepBenchmark() {}

    /** One benchmark model: encoder, heads and input shape. */
    private record Model(EncoderConfig encoder, HeadConfig heads, int channels, int size) {}

    private static Model model(String name) {
        return switch (name) {
            case "convnet" -> new Model(new EncoderConfig(EncoderKind.CONVNET, 1, 1.0), HeadConfig.small(), 1, 28);
            case "resnet18-half" -> new Model(
                    new EncoderConfig(EncoderKind.RESNET18_CIFAR, 3, 0.5), HeadConfig.simSiamPaper(), 3, 32);
            case "resnet18" -> new Model(
                    new EncoderConfig(EncoderKind.RESNET18_CIFAR, 3, 1.0), HeadConfig.simSiamPaper(), 3, 32);
            default -> throw new IllegalArgumentException(
                    "unknown model '" + name + "'; allowed values: convnet, resnet18-half, resnet18");
        };
    }

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: StepBenchmark {convnet|resnet18-half|resnet18} BATCH [WARMUP [STEPS]]");
            System.exit(2);
        }
        String name = args[0];
        int batch = Integer.parseInt(args[1]);
        int warmup = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        boolean serve = args.length > 3 && "serve".equals(args[3]);
        int steps = serve ? POOL : args.length > 3 ? Integer.parseInt(args[3]) : 20;
        if (steps < 1 || warmup < 0) {
            throw new IllegalArgumentException("need STEPS >= 1 and WARMUP >= 0");
        }
        Model m = model(name);
        LearnerConfig config = new LearnerConfig(
                SimSiamConfig.paper(), m.encoder(), m.heads(), m.channels(), m.size(), batch,
                OptimizerConfig.simSiamCifar(1_000_000L), 42L, "cpu");

        // Random normal views, created before timing; a few distinct batches, cycled.
        SplittableRandom random = new SplittableRandom(42);
        int perView = batch * m.channels() * m.size() * m.size();
        List<ViewBatch> pool = new ArrayList<>();
        for (int i = 0; i < Math.min(POOL, warmup + steps); i++) {
            pool.add(new ViewBatch(batch, m.channels(), m.size(), m.size(), gaussian(random, perView),
                    gaussian(random, perView)));
        }

        try (Learner learner = Learner.create(config)) {
            long params = learner.trainableParameterCount();
            System.out.println("djl trainable parameters: " + params);
            if (serve) {
                serve(learner, pool, warmup, name, batch, params);
                return;
            }
            double[] times = new double[steps];
            StepResult last = null;
            var os = (com.sun.management.OperatingSystemMXBean)
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            long cpu0 = 0;
            for (int i = 0; i < warmup + steps; i++) {
                ViewBatch views = pool.get(i % pool.size());
                if (i == warmup) {
                    cpu0 = os.getProcessCpuTime();
                }
                long t0 = System.nanoTime();
                last = learner.step(views);
                double ms = (System.nanoTime() - t0) / 1e6;
                if (i >= warmup) {
                    times[i - warmup] = ms;
                }
            }
            double cpuMs = (os.getProcessCpuTime() - cpu0) / 1e6 / steps;
            String trace = System.getenv("PROFILE_TRACE");
            if (trace != null && !trace.isEmpty()) {
                // libtorch's own profiler over PROFILE_STEPS further steps, after the timed ones (it slows the ops it
                // records, so it never overlaps them): a Chrome trace that bench/step_profile.py reads beside the
                // PyTorch side's
                int profiled = Integer.parseInt(System.getenv().getOrDefault("PROFILE_STEPS", "2"));
                // PROFILE_SHAPES=1 records each op's input shapes too (to tell which layer an op belongs to)
                JniUtils.startProfile(false, "1".equals(System.getenv("PROFILE_SHAPES")), false);
                for (int i = 0; i < profiled; i++) {
                    learner.step(pool.get(i % pool.size()));
                }
                JniUtils.stopProfile(trace);
            }
            double[] sorted = times.clone();
            Arrays.sort(sorted);
            double median = steps % 2 == 1
                    ? sorted[steps / 2]
                    : (sorted[steps / 2 - 1] + sorted[steps / 2]) / 2;
            System.out.println(String.format(Locale.ROOT,
                    "{\"side\": \"djl\", \"model\": \"%s\", \"batch\": %d, \"warmup\": %d, \"steps\": %d, "
                            + "\"median_ms\": %.3f, \"min_ms\": %.3f, \"max_ms\": %.3f, \"pairs_per_s\": %.2f, "
                            + "\"cpu_ms\": %.3f, \"params\": %d, \"threads\": %d, \"interop_threads\": %d, "
                            + "\"last_loss\": %.6f}",
                    name, batch, warmup, steps, median, sorted[0], sorted[steps - 1], batch * 1000.0 / median, cpuMs,
                    params, JniUtils.getNumThreads(), JniUtils.getNumInteropThreads(),
                    last == null ? Double.NaN : last.loss()));
        }
    }

    /** The turns of a paired run: warm-up, a ready line, then one answer line per request line on stdin. */
    private static void serve(Learner learner, List<ViewBatch> pool, int warmup, String name, int batch, long params) {
        var os = (com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        int next = 0;
        for (; next < warmup; next++) {
            learner.step(pool.get(next % pool.size()));
        }
        System.out.println(String.format(Locale.ROOT,
                "{\"side\": \"djl\", \"ready\": true, \"model\": \"%s\", \"batch\": %d, \"params\": %d, "
                        + "\"threads\": %d, \"interop_threads\": %d, \"pid\": %d}",
                name, batch, params, JniUtils.getNumThreads(), JniUtils.getNumInteropThreads(),
                ProcessHandle.current().pid()));
        System.out.flush();
        var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        try {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                int n = Integer.parseInt(line.trim());
                StringBuilder ms = new StringBuilder();
                double loss = Double.NaN;
                long cpu0 = os.getProcessCpuTime();
                for (int i = 0; i < n; i++, next++) {
                    long t0 = System.nanoTime();
                    loss = learner.step(pool.get(next % pool.size())).loss();
                    ms.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.3f",
                            (System.nanoTime() - t0) / 1e6));
                }
                double cpuMs = (os.getProcessCpuTime() - cpu0) / 1e6;
                System.out.println(String.format(Locale.ROOT,
                        "{\"side\": \"djl\", \"ms\": [%s], \"cpu_ms\": %.3f, \"loss\": %.6f}", ms, cpuMs, loss));
                System.out.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static float[] gaussian(SplittableRandom random, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
