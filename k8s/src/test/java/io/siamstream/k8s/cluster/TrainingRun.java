package io.siamstream.k8s.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.connectors.model.ModelArtifacts;
import io.siamstream.connectors.model.SafetensorsReader;
import io.siamstream.connectors.model.TorchNames;
import io.siamstream.job.JobSettings;
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerState;
import io.siamstream.train.ReplayTrainer;
import io.siamstream.train.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;

/**
 * The small training run the cluster ITs submit (one epoch of the first 2,400 images of the bundled Fashion-MNIST
 * sample, the test ConvNet, SimSiam, batch 32: 75 steps, the final encoder exported as a model version), what its
 * output folder must hold at the end, and the reference loop ({@link ReplayTrainer}) it must equal bit for bit.
 */
final class TrainingRun {

    static final int BATCH = 32;
    /** Fewer images than the bundled 4,000: the cluster ITs test recovery, not learning, and each of them trains this run. */
    static final int IMAGES = 2400;
    static final long STEPS = IMAGES / BATCH;
    private static final String SAMPLE = "/io/siamstream/connectors/fashion-mnist-sample/";

    private static final Map<Long, Map<String, Tensor>> REFERENCE = new ConcurrentHashMap<>();
    private static final Pattern STEP = Pattern.compile("\"step\":(\\d+),\"loss\":([-0-9.eE]+|null)");

    private final Path output;
    private final Path data;

    /** A run that writes to {@code <work>/out} and reads its images from {@code <work>/data} (written here). */
    TrainingRun(Path work) throws IOException {
        this.output = work.resolve("out");
        this.data = work.resolve("data");
        writeData(data);
    }

    /**
     * The data folder in Fashion-MNIST's file layout: the first {@link #IMAGES} training images of the bundled
     * sample (gzipped IDX, headers rewritten for the count) and the bundled test split for the evaluation.
     */
    private static void writeData(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (FashionMnist.Split split : FashionMnist.Split.values()) {
            for (String file : List.of(split.imagesFile(), split.labelsFile())) {
                byte[] idx;
                try (var in = new java.util.zip.GZIPInputStream(TrainingRun.class.getResourceAsStream(SAMPLE + file))) {
                    idx = in.readAllBytes();
                }
                if (split == FashionMnist.Split.TRAIN) {
                    boolean images = file.equals(split.imagesFile());
                    int header = images ? 16 : 8;
                    int each = images ? FashionMnist.SIDE * FashionMnist.SIDE : 1;
                    idx = Arrays.copyOf(idx, header + IMAGES * each);
                    java.nio.ByteBuffer.wrap(idx).putInt(4, IMAGES);
                }
                try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(dir.resolve(file)))) {
                    out.write(idx);
                }
            }
        }
    }

    Path output() {
        return output;
    }

    /** The job's options as the program arguments of the REST run request. */
    List<String> args() {
        List<String> args = new ArrayList<>();
        options().forEach((k, v) -> {
            args.add("--" + k);
            args.add(v);
        });
        return args;
    }

    private Map<String, String> options() {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("siamstream.data", data.toString());
        o.put("siamstream.source.epochs", "1");
        o.put("siamstream.train.batch-size", String.valueOf(BATCH));
        // one model version, at the end of the input: the one compared with the reference loop
        o.put("siamstream.train.publish-every", "1000");
        o.put("siamstream.train.device", "cpu");
        o.put("siamstream.eval.linear-every", "0");
        o.put("siamstream.output", output.toString());
        return o;
    }

    JobSettings settings() {
        return JobSettings.from(Configuration.fromMap(options()));
    }

    /** The committed step records: step number to loss as written; fails on a step written twice. */
    TreeMap<Long, String> committedSteps() throws IOException {
        TreeMap<Long, String> out = new TreeMap<>();
        for (String line : committedLines(output.resolve("steps"))) {
            Matcher m = STEP.matcher(line);
            assertThat(m.find()).as(line).isTrue();
            String previous = out.put(Long.parseLong(m.group(1)), m.group(2));
            assertThat(previous).as("step " + m.group(1) + " appears twice in the committed files").isNull();
        }
        return out;
    }

    /** Committed lines of a file sink folder (in-progress and pending files start with a dot and are skipped). */
    static List<String> committedLines(Path folder) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.exists(folder)) {
            return out;
        }
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path file : files.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList()) {
                out.addAll(Files.readAllLines(file));
            }
        }
        return out;
    }

    /** Every step 1..STEPS committed exactly once. */
    void assertEveryStepOnce() throws IOException {
        TreeMap<Long, String> steps = committedSteps();
        assertThat(steps.keySet()).containsExactlyElementsOf(LongStream.rangeClosed(1, STEPS).boxed().toList());
        assertThat(committedLines(output.resolve("steps"))).hasSize((int) STEPS);
    }

    /**
     * The exported final version ({@code models/<STEPS>/encoder.safetensors}) holds, bit for bit, the encoder of the
     * reference loop after STEPS steps.
     */
    void assertFinalEncoderIsTheReferenceLoops() throws IOException {
        Path file = output.resolve("models").resolve(String.valueOf(STEPS)).resolve(ModelArtifacts.ENCODER_FILE);
        assertThat(file).as("the final version was exported").exists();
        var exported = SafetensorsReader.read(Files.readAllBytes(file)).tensors();
        Map<String, Tensor> reference = reference(settings());
        assertThat(reference).isNotEmpty();
        for (Map.Entry<String, Tensor> e : reference.entrySet()) {
            String name = TorchNames.encoder(e.getKey());
            var t = exported.get(name);
            assertThat(t).as("exported " + name).isNotNull();
            assertThat(t.shape()).containsExactly(e.getValue().shape());
            // Arrays.equals compares floatToIntBits: bit for bit
            assertThat(Arrays.equals(t.floats(), e.getValue().data())).as("cluster job vs reference loop: " + name).isTrue();
        }
        assertThat(exported.get("1.num_batches_tracked").longs()).containsExactly(STEPS);
    }

    /** The reference loop's encoder after STEPS steps (computed once per JVM: every IT trains the same run). */
    private static Map<String, Tensor> reference(JobSettings settings) {
        return REFERENCE.computeIfAbsent(STEPS, steps -> {
            try (Learner learner = Learner.create(settings.learner())) {
                var sample = FashionMnist.read(Path.of(settings.data()), FashionMnist.Split.TRAIN).asImages();
                assertThat(sample).hasSize(IMAGES);
                new ReplayTrainer(learner, sample, settings.view1Policy(), settings.view2Policy(), settings.seed())
                        .train(steps, r -> { });
                return new TreeMap<>(learner.encoderSnapshot().withPrefix(LearnerState.PARAM));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
