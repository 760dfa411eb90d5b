package io.siamstream.bench;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import io.siamstream.augment.ViewPolicies;
import io.siamstream.connectors.cifar.Cifar10;
import io.siamstream.connectors.files.FlinkFileSystemStore;
import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.connectors.idx.LabeledImages;
import io.siamstream.connectors.model.ArtifactSpec;
import io.siamstream.connectors.model.CommittedArtifactLoader;
import io.siamstream.connectors.model.ModelArtifacts;
import io.siamstream.connectors.model.Npy;
import io.siamstream.eval.EncoderVersion;
import io.siamstream.eval.FrozenEncoder;
import io.siamstream.eval.ImageEmbedder;
import io.siamstream.method.SimSiamConfig;
import io.siamstream.model.EncoderConfig;
import io.siamstream.model.EncoderKind;
import io.siamstream.model.HeadConfig;
import io.siamstream.record.ModelUpdate;
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerConfig;
import io.siamstream.train.LearnerStateCodec;
import io.siamstream.train.OptimizerConfig;
import io.siamstream.train.ViewBatch;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Embeddings per second on one core: the project's embedding path ({@link ImageEmbedder} on a version read by
 * {@link CommittedArtifactLoader}, as the EmbeddingOperator runs it) against plain PyTorch inference (eval mode,
 * no_grad; bench/pytorch_embed.py) on the same committed artifact, the same 8-bit images and the same batches.
 *
 * <p>The artifact is real: a learner trains a few steps, and its encoder snapshot is written with
 * {@link ModelArtifacts#of}, the bytes the model sink commits. The Python peer runs as a child process driven over
 * stdin, so Java and PyTorch rounds alternate in one run and share the machine's other load alike; each round also
 * reports the CPU share that other processes took while it ran, since the machine this runs on is shared.
 * Before timing, both sides embed pool batch 0 and the largest absolute difference is reported: it shows the same
 * work is measured.
 *
 * <p>Usage: {@code EmbedBenchmark MODEL [--batch 256] [--rounds 5] [--batches 4] [--warmup 1] [--pool 4]
 * [--work DIR] [--python /usr/bin/python3] [--markdown FILE]}; MODEL: convnet (Fashion-MNIST 28x28x1, images of the
 * bundled train sample), resnet18 or resnet18-half (CIFAR variant 32x32x3, width 1.0 or 0.5, seeded random pixels:
 * no CIFAR-10 is bundled, and the cost of a forward pass does not depend on the pixel values). One intra-op thread
 * each: run with {@code -Dai.djl.pytorch.num_threads=1} and OMP_NUM_THREADS=1 (bench/embed-benchmark.sh does).
 */
public final class EmbedBenchmark {

    private EmbedBenchmark() {}

    private record Model(EncoderConfig encoder, HeadConfig heads, int channels, int size, float[] mean, float[] std) {}

    private static Model model(String name) {
        return switch (name) {
            case "convnet" -> new Model(new EncoderConfig(EncoderKind.CONVNET, 1, 1.0), HeadConfig.small(), 1, 28,
                    ViewPolicies.FASHION_MNIST_MEAN, ViewPolicies.FASHION_MNIST_STD);
            case "resnet18-half" -> new Model(new EncoderConfig(EncoderKind.RESNET18_CIFAR, 3, 0.5),
                    HeadConfig.simSiamPaper(), 3, 32, Cifar10.MEAN, Cifar10.STD);
            case "resnet18" -> new Model(new EncoderConfig(EncoderKind.RESNET18_CIFAR, 3, 1.0),
                    HeadConfig.simSiamPaper(), 3, 32, Cifar10.MEAN, Cifar10.STD);
            default -> throw new IllegalArgumentException(
                    "unknown model '" + name + "'; allowed values: convnet, resnet18-half, resnet18");
        };
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: EmbedBenchmark {convnet|resnet18-half|resnet18} [--batch 256] [--rounds 5]"
                    + " [--batches 4] [--warmup 1] [--pool 4] [--work DIR] [--python /usr/bin/python3] [--markdown FILE]");
            System.exit(2);
        }
        String name = args[0];
        int batch = 256;
        int rounds = 5;
        int perRound = 4;
        int warmup = 1;
        int poolBatches = 4;
        Path work = Path.of("target", "embed-benchmark");
        String python = "/usr/bin/python3";
        Path markdown = null;
        for (int i = 1; i < args.length; i += 2) {
            String value = args[i + 1];
            switch (args[i]) {
                case "--batch" -> batch = Integer.parseInt(value);
                case "--rounds" -> rounds = Integer.parseInt(value);
                case "--batches" -> perRound = Integer.parseInt(value);
                case "--warmup" -> warmup = Integer.parseInt(value);
                case "--pool" -> poolBatches = Integer.parseInt(value);
                case "--work" -> work = Path.of(value);
                case "--python" -> python = value;
                case "--markdown" -> markdown = Path.of(value);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (batch < 1 || rounds < 1 || perRound < 1 || warmup < 0 || poolBatches < 1) {
            throw new IllegalArgumentException("need --batch, --rounds, --batches, --pool >= 1 and --warmup >= 0");
        }
        Model m = model(name);
        Path root = repositoryRoot();
        Files.createDirectories(work);
        Path modelDir = writeArtifact(m, work.resolve(name + "-models"));
        // read through the store the job's EmbeddingOperator is given (Flink's FileSystem)
        EncoderVersion version = CommittedArtifactLoader.read(new FlinkFileSystemStore(), modelDir.toUri().toString(), null);

        int per = m.channels() * m.size() * m.size();
        int n = batch * poolBatches;
        byte[] pixels = images(name, m, n);
        Path imagesFile = work.resolve(name + "-images.u8");
        Files.write(imagesFile, pixels);
        List<List<byte[]>> pool = new ArrayList<>();
        for (int b = 0; b < poolBatches; b++) {
            List<byte[]> images = new ArrayList<>();
            for (int i = 0; i < batch; i++) {
                int at = (b * batch + i) * per;
                images.add(Arrays.copyOfRange(pixels, at, at + per));
            }
            pool.add(images);
        }

        Process py = new ProcessBuilder(python, root.resolve("bench/pytorch_embed.py").toString(), modelDir.toString(),
                imagesFile.toString(), String.valueOf(n), String.valueOf(batch), "1")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader pyOut = new BufferedReader(new InputStreamReader(py.getInputStream(), StandardCharsets.UTF_8));
        Writer pyIn = new OutputStreamWriter(py.getOutputStream(), StandardCharsets.UTF_8);
        String ready = reply(pyOut, py);
        System.out.println("pytorch: " + ready);

        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        var threads = ManagementFactory.getThreadMXBean();
        try (ImageEmbedder embedder = new ImageEmbedder(version, Device.cpu())) {
            System.out.printf(Locale.ROOT, "djl: %d intra-op / %d inter-op threads, feature dim %d%n",
                    JniUtils.getNumThreads(), JniUtils.getNumInteropThreads(), embedder.featureDim());
            // the same batch on both sides, before any timing: same model, same input, same output
            float[][] java = embedder.embed(pool.get(0));
            Path dump = work.resolve(name + "-pytorch-batch0.npy");
            command(pyIn, pyOut, py, "dump " + dump);
            Npy.Array torch = Npy.read(Files.readAllBytes(dump));
            int dim = embedder.featureDim();
            if (torch.shape().length != 2 || torch.shape()[0] != batch || torch.shape()[1] != dim) {
                throw new IllegalStateException("PyTorch features of shape " + Arrays.toString(torch.shape())
                        + ", Java " + batch + " x " + dim);
            }
            double maxDiff = 0;
            double maxAbs = 0;
            for (int i = 0; i < batch; i++) {
                for (int k = 0; k < dim; k++) {
                    maxDiff = Math.max(maxDiff, Math.abs(java[i][k] - torch.floats()[i * dim + k]));
                    maxAbs = Math.max(maxAbs, Math.abs(java[i][k]));
                }
            }
            System.out.printf(Locale.ROOT, "batch 0: max |java - pytorch| = %.3e (max |feature| %.3f)%n", maxDiff, maxAbs);

            // warm-up rounds on both sides (JIT, allocator, libtorch's first-call paths), not counted
            int cursor = 0;
            for (int w = 0; w < warmup; w++) {
                for (int b = 0; b < perRound; b++) {
                    embedder.embed(pool.get(cursor++ % poolBatches));
                }
                command(pyIn, pyOut, py, "embed " + perRound);
            }

            // wall-clock images/s, and images per CPU-second of the side's own process: on a shared machine the
            // second is the per-core rate that time-slicing by other processes does not distort
            double[] javaRate = new double[rounds];
            double[] torchRate = new double[rounds];
            double[] ratio = new double[rounds];
            double[] javaCpuRate = new double[rounds];
            double[] torchCpuRate = new double[rounds];
            double[] cpuRatio = new double[rounds];
            List<String> rows = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                // Java round
                long busy0 = BenchProbes.busyNanos();
                long cpu0 = os.getProcessCpuTime();
                long thread0 = threads.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                for (int b = 0; b < perRound; b++) {
                    embedder.embed(pool.get(cursor++ % poolBatches));
                }
                long wall = System.nanoTime() - t0;
                long cpu = os.getProcessCpuTime() - cpu0;
                // with one intra-op thread libtorch computes on the calling thread; the rest is the JVM's own (GC, JIT)
                double mainShare = (threads.getCurrentThreadCpuTime() - thread0) * 100.0 / cpu;
                double javaOther = foreign(BenchProbes.busyNanos() - busy0, cpu, wall);
                double images = (double) perRound * batch;
                javaRate[r] = images / (wall / 1e9);
                javaCpuRate[r] = images / (cpu / 1e9);

                // PyTorch round: the same batches in the same order
                busy0 = BenchProbes.busyNanos();
                cpu0 = os.getProcessCpuTime();
                t0 = System.nanoTime();
                String json = command(pyIn, pyOut, py, "embed " + perRound);
                long pyWall = System.nanoTime() - t0;
                double sum = Arrays.stream(numbers(json, "times_ms")).sum();
                double pyCpu = numbers(json, "cpu_s")[0];
                long bothCpu = (long) (pyCpu * 1e9) + (os.getProcessCpuTime() - cpu0);
                double torchOther = foreign(BenchProbes.busyNanos() - busy0, bothCpu, pyWall);
                torchRate[r] = images / (sum / 1e3);
                torchCpuRate[r] = images / pyCpu;
                ratio[r] = javaRate[r] / torchRate[r];
                cpuRatio[r] = javaCpuRate[r] / torchCpuRate[r];
                String row = String.format(Locale.ROOT,
                        "| %s | %d | %d | %.1f | %.1f | %.3f | %.1f | %.1f | %.3f | %.0f%% | %.0f%% | %.0f%% |",
                        name, batch, r + 1, javaRate[r], torchRate[r], ratio[r], javaCpuRate[r], torchCpuRate[r],
                        cpuRatio[r], mainShare, javaOther, torchOther);
                rows.add(row);
                System.out.println(row);
            }
            // where the time goes, each side: normalisation alone and the encoder's forward pass alone
            String parts = parts(version, pool, perRound);
            String pyParts = command(pyIn, pyOut, py, "parts " + perRound);
            String breakdown = String.format(Locale.ROOT, "| %s | %d | %s | %.1f | %.1f |", name, batch, parts,
                    numbers(pyParts, "norm_ms")[0], numbers(pyParts, "forward_ms")[0]);
            System.out.println(breakdown);
            command(pyIn, pyOut, py, "quit");
            String summary = String.format(Locale.ROOT,
                    "| %s | %d | %d x %d | %.1f | %.1f | **%.3f** (%.3f - %.3f) | %.1f | %.1f | **%.3f** (%.3f - %.3f) | %.1e |",
                    name, batch, rounds, perRound, median(javaRate), median(torchRate), median(ratio),
                    min(ratio), max(ratio), median(javaCpuRate), median(torchCpuRate), median(cpuRatio),
                    min(cpuRatio), max(cpuRatio), maxDiff);
            System.out.println(String.format(Locale.ROOT,
                    "{\"model\": \"%s\", \"batch\": %d, \"rounds\": %d, \"batches_per_round\": %d, \"java_per_s\": %.2f,"
                            + " \"pytorch_per_s\": %.2f, \"ratio\": %.4f, \"cpu_ratio\": %.4f, \"max_abs_diff\": %.3e}",
                    name, batch, rounds, perRound, median(javaRate), median(torchRate), median(ratio),
                    median(cpuRatio), maxDiff));
            if (markdown != null) {
                Files.writeString(markdown, "SUMMARY " + summary + "\nPARTS " + breakdown + "\n"
                                + String.join("\n", rows) + "\n",
                        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }
        } finally {
            py.destroy();
        }
    }

    /**
     * Median ms per batch of the Java side's two parts: {@link ImageEmbedder#normalized} over the batch, and
     * {@link FrozenEncoder#embed} (host floats in, the forward pass, host floats out), on the same version.
     */
    private static String parts(EncoderVersion version, List<List<byte[]>> pool, int batches) {
        double[] norm = new double[batches];
        double[] forward = new double[batches];
        int per = version.channels() * version.size() * version.size();
        try (FrozenEncoder encoder = new FrozenEncoder(version.encoder(), version.size(), version.weights(),
                Device.cpu())) {
            for (int b = 0; b < batches; b++) {
                List<byte[]> images = pool.get(b % pool.size());
                long t0 = System.nanoTime();
                float[] input = new float[images.size() * per];
                for (int i = 0; i < images.size(); i++) {
                    System.arraycopy(ImageEmbedder.normalized(images.get(i), version.channels(), version.size(),
                            version.mean(), version.std()), 0, input, i * per, per);
                }
                long t1 = System.nanoTime();
                encoder.embed(input, images.size());
                long t2 = System.nanoTime();
                norm[b] = (t1 - t0) / 1e6;
                forward[b] = (t2 - t1) / 1e6;
            }
        }
        return String.format(Locale.ROOT, "%.1f | %.1f", median(norm), median(forward));
    }

    /** Trains a few steps so that weights and BN statistics are not the initial ones, then writes the version. */
    private static Path writeArtifact(Model m, Path models) throws IOException {
        int trainBatch = 16;
        LearnerConfig config = new LearnerConfig(SimSiamConfig.paper(), m.encoder(), m.heads(), m.channels(), m.size(),
                trainBatch, OptimizerConfig.simSiamCifar(1_000_000L), 42L, "cpu");
        SplittableRandom random = new SplittableRandom(7);
        int perView = trainBatch * m.channels() * m.size() * m.size();
        ModelUpdate update = new ModelUpdate();
        try (Learner learner = Learner.create(config)) {
            for (int step = 0; step < 2; step++) {
                learner.step(new ViewBatch(trainBatch, m.channels(), m.size(), m.size(), gaussian(random, perView),
                        gaussian(random, perView)));
            }
            update.version = learner.steps();
            update.step = learner.steps();
            update.fingerprint = config.modelFingerprint();
            update.encoderState = LearnerStateCodec.encode(learner.encoderSnapshot());
            update.wallTimeMillis = System.currentTimeMillis();
        }
        ArtifactSpec spec = new ArtifactSpec(config, m.mean(), m.std(), models.toString(), false, 1, 0, 1);
        ModelArtifacts.Files files = ModelArtifacts.of(spec, update);
        Path dir = models.resolve(String.valueOf(update.version));
        Files.createDirectories(dir);
        Files.write(dir.resolve(ModelArtifacts.ENCODER_FILE), files.encoder());
        Files.write(dir.resolve(ModelArtifacts.MODEL_JSON), files.json().toBytes());
        return dir;
    }

    private static byte[] images(String name, Model m, int n) {
        int per = m.channels() * m.size() * m.size();
        byte[] out = new byte[n * per];
        if (name.equals("convnet")) {
            LabeledImages train = FashionMnist.sample(FashionMnist.Split.TRAIN);
            for (int i = 0; i < n; i++) {
                int src = i % train.count();
                System.arraycopy(train.pixels(), src * per, out, i * per, per);
            }
        } else {
            new SplittableRandom(42).nextBytes(out);
        }
        return out;
    }

    private static String command(Writer in, BufferedReader out, Process py, String command) throws IOException {
        in.write(command + "\n");
        in.flush();
        return command.equals("quit") ? "" : reply(out, py);
    }

    private static String reply(BufferedReader out, Process py) throws IOException {
        String line = out.readLine();
        if (line == null) {
            throw new IllegalStateException("the PyTorch peer ended (exit " + waitFor(py) + ")");
        }
        if (line.contains("\"error\"")) {
            throw new IllegalStateException("the PyTorch peer: " + line);
        }
        return line;
    }

    private static int waitFor(Process p) {
        try {
            return p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static double[] numbers(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\": \\[([^\\]},]*(?:,[^\\]},]*)*)\\]|\"" + key + "\": ([^,}]*)").matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no " + key + " in " + json);
        }
        String list = m.group(1) != null ? m.group(1) : m.group(2);
        return Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .mapToDouble(Double::parseDouble).toArray();
    }

    /** Percent of the whole machine's CPU that processes other than the two sides used during a round. */
    private static double foreign(long busy, long own, long wall) {
        return Math.max(0, busy - own) * 100.0 / ((double) wall * Runtime.getRuntime().availableProcessors());
    }

    private static double min(double[] values) {
        return Arrays.stream(values).min().orElse(Double.NaN);
    }

    private static double max(double[] values) {
        return Arrays.stream(values).max().orElse(Double.NaN);
    }

    private static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static float[] gaussian(SplittableRandom random, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    private static Path repositoryRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("bench/pytorch_embed.py"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("run from inside the repository (bench/pytorch_embed.py not found)");
        }
        return p;
    }
}
