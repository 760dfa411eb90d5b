package io.siamstream.connectors.cifar;

import io.siamstream.connectors.dataset.ImageSet;
import io.siamstream.flink.DeadLetters;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * CIFAR-10 in its official binary version: batch files of records of 1 label byte (0..9) and 3,072 pixel bytes,
 * a 32 x 32 image as three channel planes (red, green, blue), row-major. The train split is data_batch_1.bin ..
 * data_batch_5.bin (those present), the test split test_batch.bin; the directory may be the extracted
 * {@code cifar-10-batches-bin} folder or its parent.
 *
 * <p>Reading is lenient: a file that ends in a partial record keeps its complete records (the tail becomes a
 * reject), and a record whose label byte is not a class is dropped as a reject.
 */
public final class Cifar10 {

    public static final String[] CLASS_NAMES = {
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"
    };
    public static final int CHANNELS = 3;
    public static final int SIDE = 32;
    public static final int IMAGE_BYTES = CHANNELS * SIDE * SIDE;
    public static final int RECORD_BYTES = 1 + IMAGE_BYTES;
    /** Per-channel mean and std of the train split (RGB, in [0, 1]). */
    public static final float[] MEAN = {0.4914f, 0.4822f, 0.4465f};
    public static final float[] STD = {0.2470f, 0.2435f, 0.2616f};
    /** The folder the official archive (cifar-10-binary.tar.gz) extracts to. */
    public static final String ARCHIVE_FOLDER = "cifar-10-batches-bin";

    /** The two splits of the dataset. */
    public enum Split {
        TRAIN("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"),
        TEST("test_batch.bin");

        private final List<String> files;

        Split(String... files) {
            this.files = List.of(files);
        }

        /** The batch files of the split, in order. */
        public List<String> files() {
            return files;
        }
    }

    private Cifar10() {}

    /** The folder that holds the batch files: {@code directory} itself, or its cifar-10-batches-bin sub-folder. */
    public static Path batchFolder(Path directory) {
        Path nested = directory.resolve(ARCHIVE_FOLDER);
        return Files.isDirectory(nested) && !hasAnyBatch(directory) ? nested : directory;
    }

    private static boolean hasAnyBatch(Path folder) {
        for (Split split : Split.values()) {
            for (String f : split.files()) {
                if (Files.exists(folder.resolve(f))) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The batch files of {@code split} present in the directory, read leniently in order. Throws only when none of
     * them is there.
     */
    public static ImageSet read(Path directory, Split split) throws IOException {
        Path folder = batchFolder(directory);
        List<Path> present = new ArrayList<>();
        long bytes = 0;
        for (String name : split.files()) {
            Path file = folder.resolve(name);
            if (Files.isRegularFile(file)) {
                present.add(file);
                bytes += Files.size(file);
            }
        }
        if (present.isEmpty()) {
            throw new IOException("no CIFAR-10 " + split + " batches in " + directory + ": expected "
                    + String.join(", ", split.files()) + " (the binary version, cifar-10-binary.tar.gz, extracted)");
        }
        ImageSet.Builder out = new ImageSet.Builder(folder + " (" + split + ")", CHANNELS, SIDE, SIDE,
                CLASS_NAMES.length, (int) Math.min(Integer.MAX_VALUE, bytes / RECORD_BYTES));
        for (Path file : present) {
            try (InputStream in = Files.newInputStream(file)) {
                readBatch(file.toString(), in, out);
            } catch (IOException e) {
                out.reject(DeadLetters.UNREADABLE, file + ": cannot be read: " + e);
            }
        }
        return out.build();
    }

    /** One batch file, leniently: complete records with a class label are added, every defect is a reject. */
    public static ImageSet readBatch(String name, InputStream in) {
        ImageSet.Builder out = new ImageSet.Builder(name, CHANNELS, SIDE, SIDE, CLASS_NAMES.length, 10_000);
        readBatch(name, in, out);
        return out.build();
    }

    private static void readBatch(String name, InputStream raw, ImageSet.Builder out) {
        InputStream in = new BufferedInputStream(raw, 1 << 16);
        byte[] record = new byte[RECORD_BYTES];
        long index = 0;
        while (true) {
            int filled;
            IOException error = null;
            try {
                filled = in.readNBytes(record, 0, RECORD_BYTES);
            } catch (IOException e) {
                filled = 0;
                error = e;
            }
            if (error != null) {
                out.reject(DeadLetters.UNREADABLE, name + ": cannot be read after " + index + " records: " + error);
                return;
            }
            if (filled == 0) {
                if (index == 0) {
                    out.reject(DeadLetters.TRUNCATED, name + ": the file holds no records");
                }
                return;
            }
            if (filled < RECORD_BYTES) {
                out.reject(DeadLetters.TRUNCATED, name + ": truncated CIFAR-10 batch: the file ends in a partial record ("
                        + filled + " of " + RECORD_BYTES + " bytes) after " + index + " complete records; the partial"
                        + " record is dropped");
                return;
            }
            int label = record[0] & 0xff;
            if (label >= CLASS_NAMES.length) {
                out.reject(DeadLetters.UNKNOWN_LABEL, name + ": record " + index + " has label " + label
                        + ", not one of the " + CLASS_NAMES.length + " classes 0.." + (CLASS_NAMES.length - 1)
                        + ": record dropped");
            } else {
                out.add(record, 1, label);
            }
            index++;
        }
    }
}
