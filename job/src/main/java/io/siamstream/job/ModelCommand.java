package io.siamstream.job;

import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.connectors.idx.LabeledImages;
import io.siamstream.connectors.files.FlinkFileSystemStore;
import io.siamstream.connectors.model.CommittedArtifactLoader;
import io.siamstream.connectors.model.ModelArtifactSink;
import io.siamstream.connectors.model.ModelArtifacts;
import io.siamstream.connectors.model.Npy;
import io.siamstream.eval.EncoderVersion;
import io.siamstream.eval.FrozenEncoder;
import io.siamstream.eval.ModelVersionRejected;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.FileSystem;

/**
 * {@code model extract ...}: see {@link ModelExtract}.
 *
 * <p>{@code model embed --model <dir> --data <dir|bundled> --split test|train --out <file>.npy [--limit N]}: embeds a
 * dataset split with a committed model artifact and writes the features (N x feature_dim, {@code <f4}) to
 * {@code <file>.npy} and the labels ({@code <i8}) to {@code <file>.labels.npy}, NumPy .npy 1.0 files.
 * {@code --model} is a version directory ({@code <models>/<version>}) or a models directory (its LATEST is used),
 * any Flink FileSystem path. The images are normalised with model.json's mean and std, as the job does; the
 * encoder is rebuilt from encoder.safetensors (PyTorch names mapped back to DJL's) and runs in inference mode.
 * Data: Fashion-MNIST (the IDX files of {@code --data}, or the bundled sample), for models with 1 x 28 x 28 input.
 */
public final class ModelCommand {

    private ModelCommand() {}

    static final String USAGE = "usage: model embed --model <dir> --data <dir|bundled> --split test|train --out <file>.npy"
            + " [--limit N]\n       model extract --from <savepoint|checkpoint> --to <dir> [--replica N]"
            + " [--siamstream.<option> <value> ...] (the job's options)";

    public static void main(String[] args) throws Exception {
        String command = args.length == 0 ? "" : args[0];
        if (!command.equals("embed") && !command.equals("extract")) {
            throw new IllegalArgumentException(USAGE);
        }
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 1; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("model " + command + ": expected --option value, got " + args[i]);
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        if (command.equals("extract")) {
            try {
                System.out.println(extract(options));
            } catch (ModelExtract.UnreadableSnapshot e) {
                System.err.println(e.getMessage());
                System.exit(2);
            }
            return;
        }
        for (String required : new String[] {"model", "out"}) {
            if (!options.containsKey(required)) {
                throw new IllegalArgumentException("model embed: --" + required + " is required");
            }
        }
        String out = options.get("out");
        int n = embed(options.get("model"), options.getOrDefault("data", "bundled"),
                options.getOrDefault("split", "test"), Path.of(out),
                Integer.parseInt(options.getOrDefault("limit", String.valueOf(Integer.MAX_VALUE))));
        System.out.println("model embed: " + n + " embeddings in " + out + ", labels in " + labelsPath(Path.of(out)));
    }

    /**
     * {@code model extract} with its options ({@code from}, {@code to}, {@code replica}, and the job's
     * {@code siamstream.*} options, over those of the Flink config file as the job reads them); returns the line it
     * reports.
     */
    public static String extract(Map<String, String> options) throws Exception {
        Configuration arguments = new Configuration();
        String from = null;
        String to = null;
        Integer replica = null;
        for (Map.Entry<String, String> e : options.entrySet()) {
            switch (e.getKey()) {
                case "from" -> from = e.getValue();
                case "to" -> to = e.getValue();
                case "replica" -> replica = Integer.parseInt(e.getValue());
                default -> {
                    if (!e.getKey().startsWith(SiamstreamJob.OPTION_PREFIX)) {
                        throw new IllegalArgumentException("model extract: unknown option --" + e.getKey() + "\n" + USAGE);
                    }
                    arguments.setString(e.getKey(), e.getValue());
                }
            }
        }
        if (from == null || to == null) {
            throw new IllegalArgumentException("model extract: --from and --to are required\n" + USAGE);
        }
        ModelExtract.Result r = ModelExtract.extract(from, to, replica,
                SiamstreamJob.options(arguments, SiamstreamJob.clusterConfiguration()));
        return String.format(Locale.ROOT, "model extract: version %d (step %d, epoch %d) of replica %d from the %s %s"
                        + " into %s%s", r.json().version, r.json().step, r.json().epoch, r.json().extracted.replica,
                r.snapshot().kind(), r.snapshot().path(), r.dir(), r.json().extracted.published ? ""
                        : "; the job had not published this step: its metrics are null in model.json");
    }

    /** Where the labels go: {@code x.npy} -> {@code x.labels.npy}. */
    public static Path labelsPath(Path out) {
        String name = out.getFileName().toString();
        String stem = name.endsWith(".npy") ? name.substring(0, name.length() - 4) : name;
        return out.resolveSibling(stem + ".labels.npy");
    }

    /** Embeds the split; returns the number of images. */
    public static int embed(String model, String data, String split, Path out, int limit) throws IOException {
        org.apache.flink.core.fs.Path dir = new org.apache.flink.core.fs.Path(model);
        FileSystem fs = dir.getFileSystem();
        if (!fs.exists(new org.apache.flink.core.fs.Path(dir, ModelArtifacts.MODEL_JSON))) {
            long latest = ModelArtifactSink.latest(fs, dir);
            if (latest < 0) {
                throw new IOException("--model " + model + ": neither a version directory (model.json) nor a models"
                        + " directory with LATEST");
            }
            dir = new org.apache.flink.core.fs.Path(dir, String.valueOf(latest));
        }
        EncoderVersion version;
        try {
            version = CommittedArtifactLoader.read(new FlinkFileSystemStore(), dir.toString(), null);
        } catch (ModelVersionRejected e) {
            throw new IOException(dir + ": " + e.reason() + ": " + e.getMessage(), e);
        }
        if (version.channels() != 1 || version.size() != FashionMnist.SIDE) {
            throw new IllegalArgumentException("model embed reads Fashion-MNIST (1 x 28 x 28); this model takes "
                    + version.channels() + " x " + version.size() + " x " + version.size());
        }
        FashionMnist.Split s = switch (split.toLowerCase(Locale.ROOT)) {
            case "test" -> FashionMnist.Split.TEST;
            case "train" -> FashionMnist.Split.TRAIN;
            default -> throw new IllegalArgumentException("--split: '" + split + "'; allowed: test, train");
        };
        LabeledImages images = data.equals("bundled") ? FashionMnist.sample(s) : FashionMnist.read(Path.of(data), s);
        int count = Math.min(limit, images.count());
        float[] pixels = java.util.Arrays.copyOf(images.normalized(version.mean()[0], version.std()[0]),
                count * FashionMnist.SIDE * FashionMnist.SIDE);
        float[] features;
        int dim;
        try (FrozenEncoder encoder = new FrozenEncoder(version.encoder(), version.size(), version.weights())) {
            features = encoder.embed(pixels, count);
            dim = encoder.featureDim();
        }
        long[] labels = new long[count];
        for (int i = 0; i < count; i++) {
            labels[i] = images.label(i);
        }
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        try (OutputStream o = Files.newOutputStream(out)) {
            Npy.writeF32(o, features, count, dim);
        }
        try (OutputStream o = Files.newOutputStream(labelsPath(out))) {
            Npy.writeI64(o, labels, count);
        }
        return count;
    }
}
