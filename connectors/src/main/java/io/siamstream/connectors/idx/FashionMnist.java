package io.siamstream.connectors.idx;

import io.siamstream.connectors.dataset.ImageSet;
import io.siamstream.connectors.dataset.Reject;
import io.siamstream.flink.DeadLetters;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Fashion-MNIST: the full set from a directory of the original gzipped IDX files (Debian's dataset-fashion-mnist
 * installs them in {@link #DEBIAN_DIRECTORY}), or the small class-balanced sample bundled with siamstream
 * (4,000 train and 1,000 test images; see the LICENSE beside it).
 */
public final class FashionMnist {

    public static final Path DEBIAN_DIRECTORY = Path.of("/usr/share/datasets/fashion-mnist");
    public static final String[] CLASS_NAMES = {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
    };
    /** Height and width of every image. */
    public static final int SIDE = 28;
    private static final String SAMPLE = "/io/siamstream/connectors/fashion-mnist-sample/";

    /** The two splits of the dataset. */
    public enum Split {
        TRAIN("train"),
        TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }

        public String imagesFile() {
            return prefix + "-images-idx3-ubyte.gz";
        }

        public String labelsFile() {
            return prefix + "-labels-idx1-ubyte.gz";
        }
    }

    private FashionMnist() {}

    /** The bundled sample, read from the classpath. */
    public static LabeledImages sample(Split split) {
        try (InputStream images = resource(split.imagesFile()); InputStream labels = resource(split.labelsFile())) {
            return IdxFormat.read(images, labels);
        } catch (IOException e) {
            throw new UncheckedIOException("the bundled Fashion-MNIST sample cannot be read", e);
        }
    }

    /** The split from a directory holding the four original files. */
    public static LabeledImages read(Path directory, Split split) throws IOException {
        Path images = directory.resolve(split.imagesFile());
        Path labels = directory.resolve(split.labelsFile());
        if (!Files.isReadable(images) || !Files.isReadable(labels)) {
            throw new IOException("no Fashion-MNIST " + split + " split in " + directory + ": expected "
                    + images.getFileName() + " and " + labels.getFileName()
                    + " (Debian: apt-get install dataset-fashion-mnist)");
        }
        try (InputStream i = Files.newInputStream(images); InputStream l = Files.newInputStream(labels)) {
            return IdxFormat.read(i, l);
        }
    }

    /**
     * The split leniently, for replay and evaluation: the complete, well-labelled 28 x 28 images, and a reject for
     * every defect (see {@link IdxFormat#load}). A missing label file leaves the images unlabelled (a reject says so).
     * Throws only when there are no images to read: {@code directory} null means the bundled sample.
     */
    public static ImageSet load(Path directory, Split split) throws IOException {
        if (directory == null) {
            try (InputStream images = resource(split.imagesFile()); InputStream labels = resource(split.labelsFile())) {
                return IdxFormat.load("bundled " + split.imagesFile(), images, "bundled " + split.labelsFile(), labels,
                        SIDE, SIDE, CLASS_NAMES.length);
            }
        }
        Path images = directory.resolve(split.imagesFile());
        Path labels = directory.resolve(split.labelsFile());
        if (!Files.isReadable(images)) {
            throw new IOException("no Fashion-MNIST " + split + " split in " + directory + ": expected "
                    + images.getFileName() + " (Debian: apt-get install dataset-fashion-mnist)");
        }
        try (InputStream i = Files.newInputStream(images)) {
            if (!Files.isReadable(labels)) {
                ImageSet set = IdxFormat.load(images.toString(), i, null, null, SIDE, SIDE, CLASS_NAMES.length);
                List<Reject> rejects = new ArrayList<>(set.rejects());
                rejects.add(new Reject(DeadLetters.UNREADABLE, labels + ": no label file; the images are kept"
                        + " without labels"));
                return new ImageSet(set.source(), 1, SIDE, SIDE, set.pixels(), set.labels(), set.numClasses(), rejects);
            }
            try (InputStream l = Files.newInputStream(labels)) {
                return IdxFormat.load(images.toString(), i, labels.toString(), l, SIDE, SIDE, CLASS_NAMES.length);
            }
        }
    }

    /** True when the full dataset is installed at {@link #DEBIAN_DIRECTORY}. */
    public static boolean fullSetInstalled() {
        return Files.isReadable(DEBIAN_DIRECTORY.resolve(Split.TRAIN.imagesFile()));
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = FashionMnist.class.getResourceAsStream(SAMPLE + name);
        if (in == null) {
            throw new IOException("missing resource " + SAMPLE + name);
        }
        return in;
    }
}
