package io.siamstream.connectors.idx;

import io.siamstream.connectors.dataset.ImageSet;
import io.siamstream.connectors.dataset.Reject;
import io.siamstream.flink.DeadLetters;
import io.siamstream.record.ImageRecord;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Reads the IDX format of MNIST and Fashion-MNIST (gzipped or not): magic 0x00000803 for unsigned-byte image
 * tensors (count x rows x cols) and 0x00000801 for label vectors.
 *
 * <p>{@link #load} is lenient: it keeps every complete image and reports each defect as a reject that says what
 * was wrong (wrong magic, implausible or unexpected dimensions, truncation, a label file that does not fit, labels
 * outside the classes). {@link #read} is strict: the first defect is thrown as an {@link IdxFormatException}.
 */
public final class IdxFormat {

    public static final int IMAGES_MAGIC = 0x00000803;
    public static final int LABELS_MAGIC = 0x00000801;
    /** Largest side accepted; anything bigger is treated as a corrupt header rather than allocated. */
    public static final int MAX_SIDE = 4096;

    private IdxFormat() {}

    /** Thrown for a malformed IDX stream; the message names the defect. */
    public static final class IdxFormatException extends IOException {
        public IdxFormatException(String message) {
            super(message);
        }
    }

    /** Wraps {@code in} in a gzip decoder when it starts with the gzip magic. */
    public static InputStream maybeGunzip(InputStream in) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(in, 1 << 16);
        buffered.mark(2);
        int b1 = buffered.read();
        int b2 = buffered.read();
        buffered.reset();
        return (b1 == 0x1f && b2 == 0x8b) ? new BufferedInputStream(new GZIPInputStream(buffered), 1 << 16) : buffered;
    }

    /** Reads an image file strictly; labels may be null. The first defect is thrown. */
    public static LabeledImages read(InputStream images, InputStream labels) throws IOException {
        ImageSet set = load(null, images, null, labels, 0, 0, 0);
        if (!set.rejects().isEmpty()) {
            throw new IdxFormatException(set.rejects().get(0).detail());
        }
        byte[] labelBytes = null;
        if (labels != null) {
            labelBytes = new byte[set.count()];
            for (int i = 0; i < labelBytes.length; i++) {
                labelBytes[i] = (byte) set.label(i);
            }
        }
        return new LabeledImages(set.count(), set.height(), set.width(), set.pixels(), labelBytes);
    }

    /**
     * Reads an image file and its label file (may be null) leniently: the complete images are kept, and every defect
     * becomes a reject in the result. A bad label file leaves the images unlabelled; an image whose label is not below
     * {@code numClasses} is dropped as a reject.
     *
     * @param imagesName   how the image file is named in rejects (null: not named)
     * @param labelsName   how the label file is named in rejects
     * @param expectedRows the image height the dataset must have (0: any)
     * @param expectedCols the image width the dataset must have (0: any)
     * @param numClasses   labels must be below this (0: not checked)
     */
    public static ImageSet load(String imagesName, InputStream images, String labelsName, InputStream labels,
                                int expectedRows, int expectedCols, int numClasses) {
        String source = imagesName == null ? "IDX images" : imagesName;
        int fallbackRows = expectedRows > 0 ? expectedRows : 1;
        int fallbackCols = expectedCols > 0 ? expectedCols : 1;
        List<Reject> rejects = new ArrayList<>();
        int rows;
        int cols;
        int count;
        int declared;
        byte[] pixels;
        try {
            DataInputStream in = new DataInputStream(maybeGunzip(images));
            int magic = readHeaderInt(in, "magic");
            if (magic != IMAGES_MAGIC) {
                return failed(source, fallbackRows, fallbackCols, numClasses, DeadLetters.BAD_MAGIC, named(imagesName,
                        String.format("wrong magic 0x%08X for an IDX image file (expected 0x%08X)", magic, IMAGES_MAGIC)));
            }
            count = readHeaderInt(in, "image count");
            rows = readHeaderInt(in, "row count");
            cols = readHeaderInt(in, "column count");
            if (count < 0 || rows < 1 || cols < 1 || rows > MAX_SIDE || cols > MAX_SIDE
                    || (long) count * rows * cols > Integer.MAX_VALUE - 8) {
                return failed(source, fallbackRows, fallbackCols, numClasses, DeadLetters.BAD_HEADER,
                        named(imagesName, "implausible IDX dimensions " + count + " x " + rows + " x " + cols));
            }
            if ((expectedRows > 0 && rows != expectedRows) || (expectedCols > 0 && cols != expectedCols)) {
                return failed(source, fallbackRows, fallbackCols, numClasses, DeadLetters.WRONG_SHAPE,
                        named(imagesName, "images of " + rows + "x" + cols + ", expected " + expectedRows + "x"
                                + expectedCols + ": all " + count + " images dropped"));
            }
            declared = count;
            int size = rows * cols;
            Partial data = readUpTo(in, (long) count * size);
            int complete = data.bytes.length / size;
            if (complete < count) {
                rejects.add(new Reject(DeadLetters.TRUNCATED, named(imagesName, "truncated IDX file: image data ("
                        + count + " images of " + rows + "x" + cols + ") ends early after " + complete
                        + " complete images" + (data.bytes.length % size == 0 ? "" : " and " + data.bytes.length % size
                        + " of the " + size + " bytes of image " + complete) + "; the " + (count - complete)
                        + " missing images are dropped" + cause(data.error))));
            }
            pixels = data.bytes.length == complete * size ? data.bytes
                    : java.util.Arrays.copyOf(data.bytes, complete * size);
            count = complete;
        } catch (EOFException e) {
            return failed(source, fallbackRows, fallbackCols, numClasses, DeadLetters.TRUNCATED,
                    named(imagesName, e.getMessage()));
        } catch (IOException e) {
            return failed(source, fallbackRows, fallbackCols, numClasses, DeadLetters.UNREADABLE,
                    named(imagesName, "cannot be read: " + e));
        }

        int[] labelArray = new int[count];
        java.util.Arrays.fill(labelArray, ImageRecord.NO_LABEL);
        if (labels != null) {
            readLabels(labelsName, labels, declared, labelArray, rejects);
        }
        List<Reject> all = rejects;
        int size = rows * cols;
        int kept = 0;
        for (int i = 0; i < count; i++) {
            int label = labelArray[i];
            if (numClasses > 0 && label != ImageRecord.NO_LABEL && label >= numClasses) {
                all.add(new Reject(DeadLetters.UNKNOWN_LABEL, named(labelsName, "image "
                        + i + " has label " + label + ", not one of the " + numClasses + " classes 0.."
                        + (numClasses - 1) + ": image dropped")));
                continue;
            }
            if (kept != i) { // compact in place: the images before i are already kept
                System.arraycopy(pixels, i * size, pixels, kept * size, size);
                labelArray[kept] = label;
            }
            kept++;
        }
        if (kept < count) {
            pixels = java.util.Arrays.copyOf(pixels, kept * size);
            labelArray = java.util.Arrays.copyOf(labelArray, kept);
        }
        return new ImageSet(source, 1, rows, cols, pixels, labelArray, numClasses, all);
    }

    /**
     * Fills {@code into} (the complete images) with the labels of a label file that must hold {@code expected} labels
     * (the image file's declared count); defects go to {@code rejects}.
     */
    private static void readLabels(String name, InputStream labels, int expected, int[] into, List<Reject> rejects) {
        try {
            DataInputStream in = new DataInputStream(maybeGunzip(labels));
            int magic = readHeaderInt(in, "magic");
            if (magic != LABELS_MAGIC) {
                rejects.add(new Reject(DeadLetters.BAD_MAGIC, named(name, String.format(
                        "wrong magic 0x%08X for an IDX label file (expected 0x%08X); the images are kept without labels",
                        magic, LABELS_MAGIC))));
                return;
            }
            int count = readHeaderInt(in, "label count");
            if (count != expected) {
                rejects.add(new Reject(DeadLetters.LABEL_MISMATCH, named(name, "label file holds " + count
                        + " labels for " + expected + " images; the images are kept without labels")));
                return;
            }
            Partial data = readUpTo(in, count);
            for (int i = 0; i < Math.min(into.length, data.bytes.length); i++) {
                into[i] = data.bytes[i] & 0xff;
            }
            if (data.bytes.length < count) {
                rejects.add(new Reject(DeadLetters.TRUNCATED, named(name, "truncated IDX file: label data ends early"
                        + " after " + data.bytes.length + " of " + count + " labels; the images after it are kept"
                        + " without labels" + cause(data.error))));
            }
        } catch (EOFException e) {
            rejects.add(new Reject(DeadLetters.TRUNCATED, named(name, e.getMessage()
                    + "; the images are kept without labels")));
        } catch (IOException e) {
            rejects.add(new Reject(DeadLetters.UNREADABLE, named(name, "cannot be read: " + e
                    + "; the images are kept without labels")));
        }
    }

    private static ImageSet failed(String source, int rows, int cols, int numClasses, String reason, String detail) {
        return new ImageSet.Builder(source, 1, rows, cols, numClasses, 0).reject(reason, detail).build();
    }

    private static String named(String file, String message) {
        return file == null ? message : file + ": " + message;
    }

    private static String cause(IOException error) {
        return error == null ? "" : " (" + error + ")";
    }

    private static int readHeaderInt(DataInputStream in, String what) throws IOException {
        try {
            return in.readInt();
        } catch (EOFException e) {
            throw new EOFException("truncated IDX header: no " + what);
        }
    }

    /** The bytes read, and the error that ended reading early (null at a clean end of file). */
    private record Partial(byte[] bytes, IOException error) {}

    /**
     * Reads up to {@code max} bytes, stopping at the end of the stream or at an I/O error (a cut gzip stream); allocates
     * only what the stream really holds, never what a header claims.
     */
    static Partial readUpTo(InputStream in, long max) {
        List<byte[]> chunks = new ArrayList<>();
        long total = 0;
        IOException error = null;
        byte[] chunk = null;
        int filled = 0;
        try {
            while (total < max) {
                if (chunk == null || filled == chunk.length) {
                    if (chunk != null) {
                        chunks.add(chunk);
                    }
                    chunk = new byte[(int) Math.min(1 << 20, max - total)];
                    filled = 0;
                }
                int n = in.read(chunk, filled, chunk.length - filled);
                if (n < 0) {
                    break;
                }
                filled += n;
                total += n;
            }
        } catch (EOFException e) {
            error = null; // a cut gzip stream: the same as an early end of file
        } catch (IOException e) {
            error = e;
        }
        byte[] out = new byte[(int) total];
        int at = 0;
        for (byte[] c : chunks) {
            System.arraycopy(c, 0, out, at, c.length);
            at += c.length;
        }
        if (chunk != null) {
            System.arraycopy(chunk, 0, out, at, filled);
        }
        return new Partial(out, error);
    }
}
