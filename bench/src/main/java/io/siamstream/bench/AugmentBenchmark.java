package io.siamstream.bench;

import io.siamstream.augment.CropBox;
import io.siamstream.augment.Image;
import io.siamstream.augment.ImageOps;
import io.siamstream.augment.ViewPolicies;
import io.siamstream.augment.ViewPolicy;
import io.siamstream.augment.Views;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Augmentation throughput on one thread: views per second of {@link ViewPolicy#apply} (8-bit decode, random resized
 * crop, colour jitter, grayscale, blur, solarisation, flip, normalisation) for the SimSiam and BYOL policies at three
 * sizes, for comparison with bench/torchvision_views.py, which composes the same transforms in torchvision.
 *
 * <p>Usage: {@code AugmentBenchmark DIR [--seconds S] [--warmup S] [--only POLICY/SIZE,...] [--profile]}.
 * It first writes the seeded random 8-bit source images ({@code DIR/sources-CxHxW.u8}, channel-major, one image
 * after the other) and every cell's policy parameters ({@code DIR/cells.json}, read by the torchvision peer, so both
 * sides use the same numbers), then times each cell: {@code --warmup} seconds untimed, then {@code --seconds}
 * seconds in 5 windows; prints one JSON line per cell with the median and best window's views/s. With
 * {@code --profile} it instead times each op in isolation at each size (JSON lines with microseconds per call).
 */
public final class AugmentBenchmark {

    private static final long SEED = 42L;
    private static final int WINDOWS = 5;

    private AugmentBenchmark() {}

    /** An output size and the source images it is made from. */
    private record Size(String label, int channels, int output, int source, int pool) {
        String sourceFile() {
            return "sources-" + channels + "x" + source + "x" + source + ".u8";
        }

        float[] mean() {
            return channels == 1 ? ViewPolicies.FASHION_MNIST_MEAN : ViewPolicies.IMAGENET_MEAN;
        }

        float[] std() {
            return channels == 1 ? ViewPolicies.FASHION_MNIST_STD : ViewPolicies.IMAGENET_STD;
        }
    }

    private record Cell(ViewPolicy policy, Size size) {
        String key() {
            return policy.name() + "/" + size.label();
        }
    }

    private static final List<Size> SIZES = List.of(
            new Size("28x28x1", 1, 28, 28, 256),
            new Size("32x32x3", 3, 32, 32, 256),
            new Size("224x224x3", 3, 224, 256, 32));

    private static List<Cell> cells() {
        List<Cell> cells = new ArrayList<>();
        for (Size s : SIZES) {
            cells.add(new Cell(ViewPolicies.simSiam(s.output(), s.mean(), s.std()), s));
            cells.add(new Cell(ViewPolicies.byolView1(s.output(), s.mean(), s.std()), s));
            cells.add(new Cell(ViewPolicies.byolView2(s.output(), s.mean(), s.std()), s));
        }
        return cells;
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: AugmentBenchmark DIR [--seconds S] [--warmup S] [--only POLICY/SIZE,...] [--profile]");
            System.exit(2);
        }
        Path dir = Files.createDirectories(Path.of(args[0]));
        double seconds = 3.0;
        double warmup = 1.5;
        List<String> only = null;
        boolean profile = false;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                case "--only" -> only = Arrays.asList(args[++i].split(","));
                case "--profile" -> profile = true;
                default -> throw new IllegalArgumentException("unknown argument '" + args[i]
                        + "'; allowed: --seconds S, --warmup S, --only POLICY/SIZE,..., --profile");
            }
        }
        if (!(seconds > 0) || !(warmup >= 0)) {
            throw new IllegalArgumentException("need --seconds > 0 and --warmup >= 0");
        }

        Map<String, byte[][]> pools = new LinkedHashMap<>();
        for (Size s : SIZES) {
            byte[][] pool = sources(s);
            pools.put(s.label(), pool);
            writeSources(dir.resolve(s.sourceFile()), pool);
        }
        List<Cell> cells = cells();
        Files.writeString(dir.resolve("cells.json"), cellsJson(cells));

        if (profile) {
            for (Size s : SIZES) {
                if (only == null || only.stream().anyMatch(o -> o.endsWith("/" + s.label()) || o.equals(s.label()))) {
                    profileOps(s, pools.get(s.label()), warmup, seconds);
                }
            }
            return;
        }
        for (Cell cell : cells) {
            if (only != null && !only.contains(cell.key())) {
                continue;
            }
            Size s = cell.size();
            byte[][] pool = pools.get(s.label());
            ViewPolicy policy = cell.policy();
            long[] counter = {0};
            double[] sink = {0};
            Runnable view = () -> {
                long n = counter[0]++;
                Image img = Image.fromUnsignedBytes(pool[(int) (n % pool.length)], s.channels(), s.source(), s.source());
                float[] out = Views.make(policy, img, SEED, n, 0, (int) (n & 1));
                sink[0] += out[out.length >>> 1];
            };
            double[] rates = time(view, warmup, seconds);
            System.out.println(String.format(Locale.ROOT,
                    "{\"side\": \"java\", \"policy\": \"%s\", \"size\": \"%s\", \"views_per_s\": %.1f, "
                            + "\"best_views_per_s\": %.1f, \"views\": %d, \"blur_kernel\": %d, \"checksum\": %.3f}",
                    policy.name(), s.label(), rates[0], rates[1], counter[0], policy.blurKernelSize(), sink[0]));
        }
    }

    /** Runs {@code op} for {@code warmup} s, then for {@code seconds} s in windows; returns {median, best} calls/s. */
    private static double[] time(Runnable op, double warmup, double seconds) {
        long end = System.nanoTime() + (long) (warmup * 1e9);
        while (System.nanoTime() < end) {
            op.run();
        }
        double[] rates = new double[WINDOWS];
        long window = (long) (seconds / WINDOWS * 1e9);
        for (int w = 0; w < WINDOWS; w++) {
            long t0 = System.nanoTime();
            long stop = t0 + window;
            long n = 0;
            long t;
            do {
                op.run();
                n++;
                t = System.nanoTime();
            } while (t < stop);
            rates[w] = n / ((t - t0) / 1e9);
        }
        Arrays.sort(rates);
        return new double[] {rates[WINDOWS / 2], rates[WINDOWS - 1]};
    }

    /** Seeded random 8-bit channel-major images: {@code pool} of them, channels x source x source each. */
    private static byte[][] sources(Size s) {
        SplittableRandom random = new SplittableRandom(SEED + s.source() * 31L + s.channels());
        byte[][] pool = new byte[s.pool()][s.channels() * s.source() * s.source()];
        for (byte[] img : pool) {
            random.nextBytes(img);
        }
        return pool;
    }

    private static void writeSources(Path file, byte[][] pool) throws IOException {
        byte[] all = new byte[pool.length * pool[0].length];
        for (int i = 0; i < pool.length; i++) {
            System.arraycopy(pool[i], 0, all, i * pool[0].length, pool[0].length);
        }
        Files.write(file, all);
    }

    private static String cellsJson(List<Cell> cells) {
        StringBuilder sb = new StringBuilder("[\n");
        for (int i = 0; i < cells.size(); i++) {
            Cell c = cells.get(i);
            ViewPolicy p = c.policy();
            Size s = c.size();
            sb.append(String.format(Locale.ROOT,
                    "  {\"policy\": \"%s\", \"size\": \"%s\", \"channels\": %d, \"output\": %d, \"source\": %d, "
                            + "\"pool\": %d, \"sources\": \"%s\", \"crop_scale\": [%s, %s], \"crop_ratio\": [%s, %s], "
                            + "\"jitter_p\": %s, \"brightness\": %s, \"contrast\": %s, \"saturation\": %s, \"hue\": %s, "
                            + "\"grayscale_p\": %s, \"blur_p\": %s, \"blur_kernel\": %d, \"blur_sigma\": [%s, %s], "
                            + "\"solarize_p\": %s, \"solarize_threshold\": 0.5, \"flip_p\": %s, \"mean\": %s, \"std\": %s}%s%n",
                    p.name(), s.label(), s.channels(), s.output(), s.source(), s.pool(), s.sourceFile(),
                    p.cropScaleMin(), p.cropScaleMax(), p.cropRatioMin(), p.cropRatioMax(),
                    p.jitterProbability(), p.brightness(), p.contrast(), p.saturation(), p.hue(),
                    p.grayscaleProbability(), p.blurProbability(), p.blurKernelSize(), p.blurSigmaMin(), p.blurSigmaMax(),
                    p.solarizeProbability(), p.flipProbability(), floats(p.mean()), floats(p.std()),
                    i + 1 < cells.size() ? "," : ""));
        }
        return sb.append("]\n").toString();
    }

    private static String floats(float[] values) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            sb.append(i == 0 ? "" : ", ").append((double) values[i]);
        }
        return sb.append("]").toString();
    }

    /**
     * Times each op of a view in isolation at this size (the same ops and arguments as bench/torchvision_views.py
     * --profile): the decode of a source image, a crop of about half the source area resized to the output, then
     * each colour/blur/flip/normalise op on an output-size image.
     */
    private static void profileOps(Size s, byte[][] pool, double warmup, double seconds) {
        int src = s.source();
        int side = (int) Math.round(src * Math.sqrt(0.5));
        CropBox box = new CropBox((src - side) / 2, (src - side) / 3, side, side);
        Image decoded = Image.fromUnsignedBytes(pool[0], s.channels(), src, src);
        Image img = ImageOps.resizedCrop(decoded, box, s.output(), s.output());
        int kernel = ViewPolicies.simSiam(s.output(), s.mean(), s.std()).blurKernelSize();
        ViewPolicy simSiam = ViewPolicies.simSiam(s.output(), s.mean(), s.std());
        Map<String, Supplier<Object>> ops = new LinkedHashMap<>();
        ops.put("decode", () -> Image.fromUnsignedBytes(pool[0], s.channels(), src, src));
        ops.put("resized_crop", () -> ImageOps.resizedCrop(decoded, box, s.output(), s.output()));
        ops.put("brightness", () -> ImageOps.adjustBrightness(img, 1.2f));
        ops.put("contrast", () -> ImageOps.adjustContrast(img, 1.2f));
        ops.put("saturation", () -> ImageOps.adjustSaturation(img, 1.2f));
        ops.put("hue", () -> ImageOps.adjustHue(img, 0.05f));
        ops.put("grayscale", () -> ImageOps.grayscale(img));
        ops.put("gaussian_blur_k" + kernel, () -> ImageOps.gaussianBlur(img, kernel, 1.0f));
        ops.put("solarize", () -> ImageOps.solarize(img, 0.5f));
        ops.put("hflip", () -> ImageOps.horizontalFlip(img));
        ops.put("normalize", () -> ImageOps.normalize(img, s.mean(), s.std()));
        long[] n = {0};
        ops.put("simsiam_view", () -> Views.make(simSiam, Image.fromUnsignedBytes(pool[(int) (n[0] % pool.length)],
                s.channels(), src, src), SEED, n[0]++, 0, 0));
        Object[] sink = new Object[1];
        for (Map.Entry<String, Supplier<Object>> op : ops.entrySet()) {
            Supplier<Object> f = op.getValue();
            double[] rates = time(() -> sink[0] = f.get(), Math.min(warmup, 1.0), Math.min(seconds, 1.5));
            System.out.println(String.format(Locale.ROOT,
                    "{\"side\": \"java\", \"profile\": true, \"size\": \"%s\", \"op\": \"%s\", \"us_per_call\": %.3f}",
                    s.label(), op.getKey(), 1e6 / rates[0]));
        }
        if (sink[0] == null) {
            throw new AssertionError();
        }
    }
}
