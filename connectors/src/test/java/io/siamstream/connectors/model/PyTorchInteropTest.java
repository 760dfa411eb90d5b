package io.siamstream.connectors.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.siamstream.augment.ViewPolicies;
import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.connectors.idx.LabeledImages;
import io.siamstream.eval.FrozenEncoder;
import io.siamstream.method.SimSiamConfig;
import io.siamstream.model.EncoderConfig;
import io.siamstream.model.EncoderKind;
import io.siamstream.model.HeadConfig;
import io.siamstream.record.ModelUpdate;
import io.siamstream.record.ViewPair;
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerConfig;
import io.siamstream.train.LearnerState;
import io.siamstream.train.LearnerStateCodec;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An exported encoder.safetensors loads into the plain-PyTorch model of the same architecture (Debian's
 * python3-torch, {@code load_state_dict(strict=True)}, bench/pytorch_step.py's modules) and embeds the first 256
 * images of the bundled Fashion-MNIST test split, normalised as the job does, like the Java encoder of that version
 * (max abs difference <= 1e-4, CPU). The script is tools/safetensors_embed.py; it parses safetensors by hand.
 */
class PyTorchInteropTest {

    private static final int N = 256;
    private static final Path ROOT = repositoryRoot();

    private static Path repositoryRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("tools/safetensors_embed.py"))) {
            p = p.getParent();
        }
        return p;
    }

    private static String python() {
        return new File("/usr/bin/python3").canExecute() ? "/usr/bin/python3" : "python3";
    }

    private static void assumeTorch() throws Exception {
        boolean ok;
        try {
            Process p = new ProcessBuilder(python(), "-c", "import torch, numpy").redirectErrorStream(true).start();
            ok = p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (java.io.IOException e) {
            ok = false;
        }
        assumeTrue(ok, "python3 with torch and numpy is not installed (Debian: apt-get install python3-torch)");
    }

    @Test
    void convNetLoadsStrictlyAndEmbedsTheSame(@TempDir Path tmp) throws Exception {
        check(tmp, new EncoderConfig(EncoderKind.CONVNET, 1, 1.0), HeadConfig.small(), true);
    }

    @Test
    void convNetWithAPoolGridLoadsStrictlyAndEmbedsTheSame(@TempDir Path tmp) throws Exception {
        // model.json's pool_grid rebuilds the same AdaptiveAvgPool2d(2): 1,024 features in the same order
        check(tmp, new EncoderConfig(EncoderKind.CONVNET, 1, 1.0, 2), HeadConfig.small(), true);
    }

    @Test
    void resNet18LoadsStrictlyAndEmbedsTheSame(@TempDir Path tmp) throws Exception {
        check(tmp, new EncoderConfig(EncoderKind.RESNET18_CIFAR, 1, 0.25), HeadConfig.small(), false);
    }

    private static void check(Path tmp, EncoderConfig encoder, HeadConfig heads, boolean withHeads) throws Exception {
        assumeTorch();
        assertThat(ROOT).as("repository root with tools/safetensors_embed.py").isNotNull();
        LabeledImages test = FashionMnist.sample(FashionMnist.Split.TEST);
        float mean = ViewPolicies.FASHION_MNIST_MEAN[0];
        float std = ViewPolicies.FASHION_MNIST_STD[0];
        float[] images = Arrays.copyOf(test.normalized(mean, std), N * 28 * 28);
        LearnerConfig config = LearnerConfig.smallConvNet(SimSiamConfig.paper(), 16, 100, 7)
                .withModel(encoder, heads, 1, 28);
        ArtifactSpec spec = new ArtifactSpec(config, new float[] {mean}, new float[] {std}, tmp.toString(), withHeads,
                1, 0, 1);
        ModelUpdate update = new ModelUpdate();
        float[] java;
        try (Learner learner = Learner.create(config)) {
            // three steps on 16 images and a noisy copy: non-trivial weights and BN running statistics
            for (int step = 0; step < 3; step++) {
                List<ViewPair> pairs = new ArrayList<>();
                java.util.Random random = new java.util.Random(step);
                for (int i = 0; i < 16; i++) {
                    float[] v1 = Arrays.copyOfRange(images, (step * 16 + i) * 784, (step * 16 + i + 1) * 784);
                    float[] v2 = v1.clone();
                    for (int j = 0; j < v2.length; j++) {
                        v2[j] += (float) random.nextGaussian() * 0.3f;
                    }
                    pairs.add(new ViewPair(i, step * 16 + i, 0, 1, 28, 28, v1, v2, -1));
                }
                learner.step(pairs);
            }
            LearnerState snapshot = learner.encoderSnapshot();
            update.version = learner.steps();
            update.step = learner.steps();
            update.fingerprint = config.modelFingerprint();
            update.encoderState = LearnerStateCodec.encode(snapshot);
            if (withHeads) {
                Map<String, io.siamstream.train.Tensor> h = new java.util.LinkedHashMap<>();
                learner.snapshot().tensors().forEach((k, v) -> {
                    if (k.startsWith(LearnerState.PARAM) && !k.startsWith(LearnerState.PARAM + Learner.ENCODER_PREFIX)) {
                        h.put(k, v);
                    }
                });
                update.headsState = LearnerStateCodec.encode(new LearnerState("", 3, 0, 7, h));
            }
            try (FrozenEncoder frozen = new FrozenEncoder(encoder, 28, snapshot)) {
                java = frozen.embed(images, N);
            }
            assertThat(Arrays.equals(learner.embed(images, N), java)).as("Learner.embed and FrozenEncoder agree").isTrue();
        }
        ModelArtifacts.Files files = ModelArtifacts.of(spec, update);
        try (ai.djl.ndarray.NDManager manager = io.siamstream.train.Engines.pyTorch().newBaseManager()) {
            // DJL's own safetensors decoder reads the exported file too
            assertThat(ai.djl.ndarray.NDList.decode(manager, files.encoder()))
                    .hasSize(SafetensorsReader.read(files.encoder()).tensors().size());
        }
        Path dir = tmp.resolve("3");
        Files.createDirectories(dir);
        Files.write(dir.resolve(ModelArtifacts.ENCODER_FILE), files.encoder());
        if (files.heads() != null) {
            Files.write(dir.resolve(ModelArtifacts.HEADS_FILE), files.heads());
        }
        Files.write(dir.resolve(ModelArtifacts.MODEL_JSON), files.json().toBytes());
        Files.write(tmp.resolve("images.npy"), Npy.f32(images, N, 1, 28, 28));

        List<String> command = new ArrayList<>(List.of(python(), ROOT.resolve("tools/safetensors_embed.py").toString(),
                dir.toString(), tmp.resolve("images.npy").toString(), tmp.resolve("torch.npy").toString()));
        if (withHeads) {
            command.add("--heads");
        }
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(output).isZero();
        System.out.println("pytorch: " + output.strip());

        Npy.Array torch = Npy.read(Files.readAllBytes(tmp.resolve("torch.npy")));
        assertThat(torch.shape()).containsExactly(N, java.length / N);
        double max = 0;
        for (int i = 0; i < java.length; i++) {
            max = Math.max(max, Math.abs(java[i] - torch.floats()[i]));
        }
        double spread = 0;
        for (int i = 0; i < java.length; i++) {
            spread = Math.max(spread, Math.abs(java[i] - java[i % (java.length / N)]));
        }
        System.out.printf("%s: max |java - pytorch| = %.3e over %d x %d (java[0..2] %s, pytorch[0..2] %s, spread %.3f)%n",
                encoder.kind(), max, N, java.length / N, Arrays.toString(Arrays.copyOf(java, 3)),
                Arrays.toString(Arrays.copyOf(torch.floats(), 3)), spread);
        assertThat(spread).as("features differ between images").isGreaterThan(1e-2);
        assertThat(max).isLessThanOrEqualTo(1e-4);
    }
}
