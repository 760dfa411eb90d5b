package io.siamstream.augment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compares every deterministic {@link ImageOps} operation with torchvision's functional op of the same name on the
 * same float image, through src/test/resources/torchvision_ops.py run by {@code /usr/bin/python3} (Debian's
 * python3-torch 1.13 / python3-torchvision 0.14; override with the environment variable SIAMSTREAM_PYTHON). Skipped
 * (not failed) where that interpreter cannot import torchvision.
 *
 * <p>One Python process per image (the three are started together): the test writes the image (raw little-endian
 * float32, C x H x W) and a JSON list of ops to a temporary folder, the script writes one raw output per op, and each
 * output is compared with the Java op's by the largest absolute difference, against the tolerance stated per op
 * below.
 */
class TorchvisionParityTest {

    private static final String PYTHON = System.getenv().getOrDefault("SIAMSTREAM_PYTHON", "/usr/bin/python3");

    // Tolerances (max |Java - torchvision|) per op. Both sides compute in float32; where the formula is the same
    // expression in the same order the results are bit-identical and the tolerance is 0.
    /** A pure copy / a single subtraction, identical on both sides. */
    private static final double EXACT = 0.0;
    /**
     * Bilinear resize: Java interpolates as a + (b - a) * l, torch as a * (1 - l) + b * l (and computes the source
     * index with its own scale rounding); a few ulp of values <= 1.
     */
    private static final double CROP_TOL = 1e-5;
    /** Brightness, contrast, saturation, grayscale: float blends; contrast's mean is summed in double in Java. */
    private static final double BLEND_TOL = 1e-5;
    /**
     * Hue: RGB -> HSV -> RGB with divisions, a floor mod and h x 6, the same float expressions on both sides
     * (bit-identical on the images here); kept at the blends' 1e-5 in case another torch build vectorises them
     * differently (an ulp of h near a sector edge is multiplied by 6).
     */
    private static final double HUE_TOL = 1e-5;
    /** Blur: Java convolves separably (rows then columns) in float, torch with the 2-D outer-product kernel. */
    private static final double BLUR_TOL = 1e-5;
    /** Normalise: Java multiplies by 1/std, torch divides by std; outputs up to ~2.7 in magnitude. */
    private static final double NORMALIZE_TOL = 1e-5;

    @TempDir
    static Path dir;

    /** The three test images, by label, with their normalisation statistics. */
    private record Input(Image image, float[] mean, float[] std) {}

    private static final Map<String, Input> INPUTS = new LinkedHashMap<>();
    /** The Python run of each image, started together in {@link #startTorchvision()}. */
    private static final Map<String, Process> RUNS = new HashMap<>();
    /** Why the tests are skipped, or null where torchvision is there. */
    private static String unavailable;

    @BeforeAll
    static void startTorchvision() throws IOException {
        INPUTS.put("rgb32", new Input(uniform(3, 32, 32, 11), ViewPolicies.IMAGENET_MEAN, ViewPolicies.IMAGENET_STD));
        INPUTS.put("rgb32-u8", new Input(decodedWithTies(32, 32, 12), ViewPolicies.IMAGENET_MEAN,
                ViewPolicies.IMAGENET_STD));
        INPUTS.put("gray28", new Input(uniform(1, 28, 28, 13), ViewPolicies.FASHION_MNIST_MEAN,
                ViewPolicies.FASHION_MNIST_STD));
        Path script = dir.resolve("torchvision_ops.py");
        try (InputStream in = TorchvisionParityTest.class.getResourceAsStream("/torchvision_ops.py")) {
            assertThat(in).as("torchvision_ops.py on the test classpath").isNotNull();
            Files.copy(in, script);
        }
        // The availability check and one Python process per image all start at once (importing torch dominates
        // each one's time); the runs are discarded if the check fails.
        boolean ok;
        String detail;
        try {
            Process check = new ProcessBuilder(PYTHON, "-c", "import torchvision").redirectErrorStream(true).start();
            for (Map.Entry<String, Input> e : INPUTS.entrySet()) {
                RUNS.put(e.getKey(), start(script, e.getKey(), e.getValue()));
            }
            byte[] out = check.getInputStream().readAllBytes();
            ok = check.waitFor(60, TimeUnit.SECONDS) && check.exitValue() == 0;
            detail = new String(out, StandardCharsets.UTF_8).trim();
        } catch (IOException | InterruptedException e) {
            ok = false;
            detail = e.toString();
        }
        if (!ok) {
            stopTorchvision();
            unavailable = "TorchvisionParityTest skipped: '" + PYTHON + " -c \"import torchvision\"' failed (" + detail
                    + "); install python3-torchvision or set SIAMSTREAM_PYTHON to an interpreter that has it";
        }
    }

    /** Skips each test (reported as skipped, with the reason) where torchvision cannot be imported. */
    @BeforeEach
    void torchvisionIsInstalled() {
        assumeTrue(unavailable == null, unavailable);
    }

    @AfterAll
    static void stopTorchvision() {
        RUNS.values().forEach(Process::destroy);
    }

    /** One op: its JSON spec for the script, the Java op and its tolerance. */
    private record Case(String name, String json, Function<Image, float[]> java, double tolerance) {}

    private static final class Cases {
        final List<Case> list = new ArrayList<>();

        void add(String name, String opAndArgs, Function<Image, Image> java, double tolerance) {
            list.add(new Case(name, "{\"name\": \"" + name + "\", " + opAndArgs + "}",
                    img -> java.apply(img).data(), tolerance));
        }

        void addRaw(String name, String opAndArgs, Function<Image, float[]> java, double tolerance) {
            list.add(new Case(name, "{\"name\": \"" + name + "\", " + opAndArgs + "}", java, tolerance));
        }
    }

    /** A float as JSON: its exact value as a double, so Python's float is the same number. */
    private static String num(float f) {
        return Double.toString(f);
    }

    private static Cases cases(int size, float[] mean, float[] std) {
        Cases cases = new Cases();
        int s = size;
        // crop boxes: top, left, height, width, output height, output width
        int[][] boxes = {
            {0, 0, s, s, s, s},                  // identity
            {4, 6, 20, 12, s, s},                // upscale, non-square box
            {3, 2, s - 3, s - 2, s / 2, s / 2},  // downscale by ~2
            {10, 5, 7, 21, 24, 24},              // strong upscale in y, mild in x
            {0, 0, s, s, 9, 9},                  // strong downscale, non-integer factor
            {5, 7, 20, 18, 20, 28},              // non-square output
            {s - 1, s - 1, 1, 1, 4, 4},          // a single source pixel at the corner
            {2, 3, 13, 17, 224, 224},            // upscale to the ImageNet view size
        };
        for (int[] b : boxes) {
            CropBox box = new CropBox(b[0], b[1], b[2], b[3]);
            cases.add(String.format(Locale.ROOT, "crop_%d_%d_%dx%d_to_%dx%d", b[0], b[1], b[2], b[3], b[4], b[5]),
                    String.format(Locale.ROOT, "\"op\": \"resized_crop\", \"top\": %d, \"left\": %d, \"height\": %d, "
                            + "\"width\": %d, \"out_h\": %d, \"out_w\": %d", b[0], b[1], b[2], b[3], b[4], b[5]),
                    img -> ImageOps.resizedCrop(img, box, b[4], b[5]), CROP_TOL);
        }
        cases.add("hflip", "\"op\": \"hflip\"", ImageOps::horizontalFlip, EXACT);
        for (float f : new float[] {0f, 0.6f, 1f, 1.4f}) {
            cases.add("brightness_" + f, "\"op\": \"brightness\", \"factor\": " + num(f),
                    img -> ImageOps.adjustBrightness(img, f), BLEND_TOL);
        }
        for (float f : new float[] {0f, 0.6f, 1f, 1.4f}) {
            cases.add("contrast_" + f, "\"op\": \"contrast\", \"factor\": " + num(f),
                    img -> ImageOps.adjustContrast(img, f), BLEND_TOL);
        }
        for (float f : new float[] {0f, 0.6f, 1f, 1.4f}) {
            cases.add("saturation_" + f, "\"op\": \"saturation\", \"factor\": " + num(f),
                    img -> ImageOps.adjustSaturation(img, f), BLEND_TOL);
        }
        for (float f : new float[] {-0.5f, -0.1f, -0.03f, 0f, 0.03f, 0.1f, 0.5f}) {
            cases.add("hue_" + f, "\"op\": \"hue\", \"factor\": " + num(f),
                    img -> ImageOps.adjustHue(img, f), HUE_TOL);
        }
        cases.add("grayscale", "\"op\": \"grayscale\"", ImageOps::grayscale, BLEND_TOL);
        int[] kernels = {3, 5, 9, 23};
        float[] sigmas = {0.5f, 1.5f, 2.0f, 1.0f};
        for (int i = 0; i < kernels.length; i++) {
            int k = kernels[i];
            float sigma = sigmas[i];
            cases.add("blur_" + k + "_" + sigma, "\"op\": \"gaussian_blur\", \"kernel_size\": " + k + ", \"sigma\": "
                    + num(sigma), img -> ImageOps.gaussianBlur(img, k, sigma), BLUR_TOL);
        }
        cases.add("solarize_0.5", "\"op\": \"solarize\", \"threshold\": 0.5", img -> ImageOps.solarize(img, 0.5f),
                EXACT);
        StringBuilder m = new StringBuilder();
        StringBuilder d = new StringBuilder();
        for (int c = 0; c < mean.length; c++) {
            m.append(c == 0 ? "" : ", ").append(num(mean[c]));
            d.append(c == 0 ? "" : ", ").append(num(std[c]));
        }
        cases.addRaw("normalize", "\"op\": \"normalize\", \"mean\": [" + m + "], \"std\": [" + d + "]",
                img -> ImageOps.normalize(img, mean, std), NORMALIZE_TOL);
        return cases;
    }

    private static Image uniform(int channels, int h, int w, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] data = new float[channels * h * w];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) random.nextDouble();
        }
        return new Image(channels, h, w, data);
    }

    /**
     * A decoded 8-bit colour image as the pipeline sees it, with many ties for HSV: a quarter of the pixels gray
     * (r = g = b), some channels equal to the maximum of another, exact 0, 1 and values either side of 0.5.
     */
    private static Image decodedWithTies(int h, int w, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int plane = h * w;
        byte[] px = new byte[3 * plane];
        for (int i = 0; i < plane; i++) {
            int r = random.nextInt(256);
            int g = random.nextInt(256);
            int b = random.nextInt(256);
            switch (random.nextInt(8)) {
                case 0, 1 -> g = b = r;              // gray
                case 2 -> g = r;                     // max shared by r and g (or min)
                case 3 -> b = g;
                case 4 -> { r = 255; b = 0; }        // saturated
                case 5 -> r = random.nextBoolean() ? 127 : 128; // either side of the solarize threshold
                default -> { }
            }
            px[i] = (byte) r;
            px[plane + i] = (byte) g;
            px[2 * plane + i] = (byte) b;
        }
        return Image.fromUnsignedBytes(px, 3, h, w);
    }

    @Test
    void colourImageMatchesTorchvision() throws Exception {
        check("rgb32");
    }

    @Test
    void decodedColourImageWithTiesMatchesTorchvision() throws Exception {
        check("rgb32-u8");
    }

    @Test
    void grayImageMatchesTorchvision() throws Exception {
        check("gray28");
    }

    /** Writes the image and its op list and starts torchvision_ops.py on them. */
    private static Process start(Path script, String label, Input input) throws IOException {
        Image img = input.image();
        Cases cases = cases(img.height(), input.mean(), input.std());
        Path image = dir.resolve(label + ".f32");
        ByteBuffer buf = ByteBuffer.allocate(4 * img.data().length).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(img.data());
        Files.write(image, buf.array());
        Path ops = dir.resolve(label + ".json");
        StringBuilder json = new StringBuilder("[\n");
        for (int i = 0; i < cases.list.size(); i++) {
            json.append("  ").append(cases.list.get(i).json()).append(i + 1 < cases.list.size() ? ",\n" : "\n");
        }
        Files.writeString(ops, json.append("]\n"));
        Path out = Files.createDirectories(dir.resolve(label + "-out"));
        return new ProcessBuilder(PYTHON, script.toString(), image.toString(),
                Integer.toString(img.channels()), Integer.toString(img.height()), Integer.toString(img.width()),
                ops.toString(), out.toString())
                .redirectErrorStream(true).start();
    }

    /** Waits for the image's Python run and compares each op's output with the Java op's. */
    private static void check(String label) throws Exception {
        Input input = INPUTS.get(label);
        Image img = input.image();
        Cases cases = cases(img.height(), input.mean(), input.std());
        Path out = dir.resolve(label + "-out");
        Process p = RUNS.get(label);
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("torchvision_ops.py finished").isTrue();
        assertThat(p.exitValue()).as("torchvision_ops.py exit status; output:\n" + log).isZero();
        Map<String, int[]> shapes = new HashMap<>();
        for (String line : log.split("\n")) {
            String[] f = line.trim().split(" ");
            if (f.length == 4) {
                try {
                    shapes.put(f[0], new int[] {Integer.parseInt(f[1]), Integer.parseInt(f[2]), Integer.parseInt(f[3])});
                } catch (NumberFormatException notAShapeLine) {
                    // a warning line from torchvision; ignore
                }
            }
        }

        List<String> failures = new ArrayList<>();
        StringBuilder report = new StringBuilder(String.format(Locale.ROOT,
                "torchvision parity, %s (%dx%dx%d):%n", label, img.channels(), img.height(), img.width()));
        for (Case c : cases.list) {
            float[] expected = readFloats(out.resolve(c.name() + ".f32"));
            float[] actual = c.java().apply(img);
            int[] shape = shapes.get(c.name());
            if (shape == null || expected.length != actual.length) {
                failures.add(c.name() + ": torchvision gave " + expected.length + " values (shape "
                        + (shape == null ? "?" : shape[0] + "x" + shape[1] + "x" + shape[2]) + "), Java "
                        + actual.length);
                continue;
            }
            double max = 0;
            int at = -1;
            for (int i = 0; i < actual.length; i++) {
                double diff = Math.abs((double) actual[i] - expected[i]);
                if (!(diff <= max)) { // also catches NaN
                    max = diff;
                    at = i;
                }
            }
            report.append(String.format(Locale.ROOT, "  %-28s max |diff| %.3e (tolerance %.0e)%n",
                    c.name(), max, c.tolerance()));
            if (!(max <= c.tolerance())) {
                failures.add(String.format(Locale.ROOT, "%s: max |diff| %.3e > %.0e at index %d (Java %s, torchvision %s)",
                        c.name(), max, c.tolerance(), at, actual[at], expected[at]));
            }
        }
        System.out.print(report);
        assertThat(failures).as("ops that differ from torchvision beyond their tolerance").isEmpty();
    }

    private static float[] readFloats(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        float[] out = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }
}
