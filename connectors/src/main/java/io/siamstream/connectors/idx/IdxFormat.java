package io.siamstream.connectors.idx;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/**
 * Reads the IDX format of MNIST and Fashion-MNIST (gzipped or not): magic 0x00000803 for unsigned-byte image
 * tensors (count x rows x cols) and 0x00000801 for label vectors. Every defect (wrong magic, implausible dimensions,
 * truncation) is reported as an {@link IdxFormatException} that says what was wrong.
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

    /** Reads an image file; labels may be null. */
    public static LabeledImages read(InputStream images, InputStream labels) throws IOException {
        DataInputStream in = new DataInputStream(maybeGunzip(images));
        int magic = readHeaderInt(in, "magic");
        if (magic != IMAGES_MAGIC) {
            throw new IdxFormatException(String.format("wrong magic 0x%08X for an IDX image file (expected 0x%08X)", magic, IMAGES_MAGIC));
        }
        int count = readHeaderInt(in, "image count");
        int rows = readHeaderInt(in, "row count");
        int cols = readHeaderInt(in, "column count");
        if (count < 0 || rows < 1 || cols < 1 || rows > MAX_SIDE || cols > MAX_SIDE
                || (long) count * rows * cols > Integer.MAX_VALUE - 8) {
            throw new IdxFormatException("implausible IDX dimensions " + count + " x " + rows + " x " + cols);
        }
        byte[] pixels = new byte[count * rows * cols];
        readFully(in, pixels, "image data (" + count + " images of " + rows + "x" + cols + ")");
        byte[] labelBytes = labels == null ? null : readLabels(labels, count);
        return new LabeledImages(count, rows, cols, pixels, labelBytes);
    }

    private static byte[] readLabels(InputStream labels, int expected) throws IOException {
        DataInputStream in = new DataInputStream(maybeGunzip(labels));
        int magic = readHeaderInt(in, "magic");
        if (magic != LABELS_MAGIC) {
            throw new IdxFormatException(String.format("wrong magic 0x%08X for an IDX label file (expected 0x%08X)", magic, LABELS_MAGIC));
        }
        int count = readHeaderInt(in, "label count");
        if (count != expected) {
            throw new IdxFormatException("label file holds " + count + " labels for " + expected + " images");
        }
        byte[] out = new byte[count];
        readFully(in, out, "label data");
        return out;
    }

    private static int readHeaderInt(DataInputStream in, String what) throws IOException {
        try {
            return in.readInt();
        } catch (EOFException e) {
            throw new IdxFormatException("truncated IDX header: no " + what);
        }
    }

    private static void readFully(DataInputStream in, byte[] into, String what) throws IOException {
        try {
            in.readFully(into);
        } catch (EOFException e) {
            throw new IdxFormatException("truncated IDX file: " + what + " ends early");
        }
    }
}
