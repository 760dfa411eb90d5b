package io.siamstream.connectors;

import io.siamstream.connectors.idx.IdxFormat;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;

/** Small dataset files written by the tests: IDX image and label files, CIFAR-10 batches, PNG images. */
public final class TestFiles {

    private TestFiles() {}

    /** Pixel value of byte {@code i} of image {@code image}: recognisable and different per image. */
    public static byte pixel(int image, int i) {
        return (byte) (image * 31 + i * 7);
    }

    /** An IDX image file of {@code count} images of rows x cols with {@link #pixel} values, gzipped or not. */
    public static byte[] idxImages(int count, int rows, int cols, boolean gzip) throws IOException {
        return idxImages(IdxFormat.IMAGES_MAGIC, count, count, rows, cols, gzip);
    }

    /** An IDX image file whose header says {@code declared} images and that holds {@code written}. */
    public static byte[] idxImages(int magic, int declared, int written, int rows, int cols, boolean gzip) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(gzip ? new GZIPOutputStream(bytes) : bytes)) {
            out.writeInt(magic);
            out.writeInt(declared);
            out.writeInt(rows);
            out.writeInt(cols);
            for (int n = 0; n < written; n++) {
                for (int i = 0; i < rows * cols; i++) {
                    out.write(pixel(n, i));
                }
            }
        }
        return bytes.toByteArray();
    }

    /** An IDX label file. */
    public static byte[] idxLabels(int magic, int declared, int... labels) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(magic);
            out.writeInt(declared);
            for (int l : labels) {
                out.write(l);
            }
        }
        return bytes.toByteArray();
    }

    /** One CIFAR-10 record: the label byte and 3 x 32 x 32 {@link #pixel} values of image {@code image}. */
    public static byte[] cifarRecord(int label, int image) {
        byte[] r = new byte[3073];
        r[0] = (byte) label;
        for (int i = 0; i < 3072; i++) {
            r[1 + i] = pixel(image, i);
        }
        return r;
    }

    /** A CIFAR-10 batch of records with these labels (image n has the pixels of {@link #pixel}(first + n, .)). */
    public static byte[] cifarBatch(int first, int... labels) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int n = 0; n < labels.length; n++) {
            out.writeBytes(cifarRecord(labels[n], first + n));
        }
        return out.toByteArray();
    }

    /** An RGB image whose channel c at (x, y) is {@link #rgb}. */
    public static BufferedImage rgbImage(int width, int height, int seed) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, (rgb(seed, 0, x, y) << 16) | (rgb(seed, 1, x, y) << 8) | rgb(seed, 2, x, y));
            }
        }
        return image;
    }

    public static int rgb(int seed, int channel, int x, int y) {
        return (seed * 40 + channel * 85 + x * 5 + y * 3) & 0xff;
    }

    public static Path png(Path file, BufferedImage image) throws IOException {
        return write(file, image, "png");
    }

    public static Path write(Path file, BufferedImage image, String format) throws IOException {
        Files.createDirectories(file.getParent());
        if (!ImageIO.write(image, format, file.toFile())) {
            throw new IOException("no " + format + " writer");
        }
        return file;
    }

    public static Path bytes(Path file, byte[] data) throws IOException {
        Files.createDirectories(file.getParent());
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(data);
        }
        return file;
    }
}
