package io.siamstream.connectors.kafka;

import io.siamstream.flink.DeadLetters;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * The image encodings a Kafka image record's value may hold, and their decoding to the 8-bit channel-major
 * (C x H x W) pixels of an {@link io.siamstream.record.ImageRecord}:
 * <ul>
 *   <li><b>PNG</b> (starts with the PNG signature) and <b>JPEG</b> (starts with {@code FF D8 FF}), read with
 *       javax.imageio. Grayscale images (also gray palettes, 16-bit gray scaled to 8 bits, gray + alpha) are 1
 *       channel; all others are converted to sRGB and are 3 channels (R, G, B planes). Alpha is ignored.</li>
 *   <li><b>raw</b>: the 4 ASCII bytes {@code SSRW}, 1 byte channels, 2 bytes height and 2 bytes width (unsigned,
 *       big-endian), then exactly channels x height x width pixel bytes, channel-major.</li>
 * </ul>
 * Any other first bytes are not an image. The declared size is checked before any pixels are decoded, so a huge
 * image header cannot make the reader allocate its pixels. Decoding reads from memory only (no ImageIO file cache).
 */
public final class ImageBytes {

    /** The magic of the raw format. */
    public static final byte[] RAW_MAGIC = {'S', 'S', 'R', 'W'};
    /** Length of the raw format's header: magic, channels, height, width. */
    public static final int RAW_HEADER_BYTES = 9;

    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    private static final byte[] JPEG_MAGIC = {(byte) 0xff, (byte) 0xd8, (byte) 0xff};

    private ImageBytes() {}

    /** Why bytes could not be decoded into an image of the expected shape: a dead-letter reason and a detail. */
    public static final class MalformedImageException extends Exception {
        private static final long serialVersionUID = 1L;
        private final String reason;

        public MalformedImageException(String reason, String detail) {
            super(detail);
            this.reason = reason;
        }

        /** A {@link DeadLetters} reason: no-pixels, undecodable, wrong-size, wrong-channels or wrong-shape. */
        public String reason() {
            return reason;
        }
    }

    /**
     * Decodes {@code bytes} (PNG, JPEG or raw) to channel-major 8-bit pixels, which must be an image of exactly
     * {@code channels} x {@code height} x {@code width}.
     *
     * @throws MalformedImageException when the bytes are empty, not one of the formats, corrupt, or of another shape
     */
    public static byte[] decode(byte[] bytes, int channels, int height, int width) throws MalformedImageException {
        if (bytes == null || bytes.length == 0) {
            throw new MalformedImageException(DeadLetters.NO_PIXELS, "the record has no value");
        }
        if (startsWith(bytes, RAW_MAGIC)) {
            return decodeRaw(bytes, channels, height, width);
        }
        String format = startsWith(bytes, PNG_MAGIC) ? "png" : startsWith(bytes, JPEG_MAGIC) ? "jpeg" : null;
        if (format == null) {
            throw new MalformedImageException(DeadLetters.UNDECODABLE, bytes.length
                    + " bytes that are not PNG, JPEG or raw (" + hexHead(bytes) + ")");
        }
        BufferedImage image;
        try {
            image = read(bytes, format, height, width);
        } catch (MalformedImageException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new MalformedImageException(DeadLetters.UNDECODABLE, "corrupt " + format + " (" + bytes.length
                    + " bytes): " + e);
        }
        return pixels(image, format, channels);
    }

    private static BufferedImage read(byte[] bytes, String format, int height, int width)
            throws IOException, MalformedImageException {
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format);
        if (!readers.hasNext()) {
            throw new MalformedImageException(DeadLetters.UNDECODABLE, "this JVM has no " + format + " reader");
        }
        ImageReader reader = readers.next();
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            reader.setInput(in, true, true);
            int w = reader.getWidth(0);
            int h = reader.getHeight(0);
            if (h != height || w != width) {
                throw new MalformedImageException(DeadLetters.WRONG_SHAPE, format + " of " + h + "x" + w
                        + ", expected " + height + "x" + width);
            }
            return reader.read(0);
        } finally {
            reader.dispose();
        }
    }

    /** Channel-major pixels of a decoded image: 1 plane for grayscale, 3 (sRGB) otherwise. */
    private static byte[] pixels(BufferedImage image, String format, int channels) throws MalformedImageException {
        ColorModel model = image.getColorModel();
        boolean gray = isGray(model);
        int found = gray ? 1 : 3;
        if (found != channels) {
            throw new MalformedImageException(DeadLetters.WRONG_CHANNELS, format + " with " + found
                    + (found == 1 ? " channel" : " channels") + ", expected " + channels);
        }
        int height = image.getHeight();
        int width = image.getWidth();
        int plane = height * width;
        byte[] out = new byte[channels * plane];
        if (gray && !(model instanceof IndexColorModel)) {
            Raster raster = image.getRaster();
            int bits = model.getComponentSize(0);
            double scale = 255.0 / ((1L << bits) - 1);
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    int sample = raster.getSample(x, y, 0);
                    out[y * width + x] = (byte) (bits == 8 ? sample : (int) Math.round(sample * scale));
                }
            }
            return out;
        }
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int rgb = image.getRGB(x, y);
                int i = y * width + x;
                if (gray) {
                    out[i] = (byte) rgb; // a gray palette entry: r = g = b
                } else {
                    out[i] = (byte) (rgb >> 16);
                    out[plane + i] = (byte) (rgb >> 8);
                    out[2 * plane + i] = (byte) rgb;
                }
            }
        }
        return out;
    }

    private static boolean isGray(ColorModel model) {
        if (model instanceof IndexColorModel palette) {
            for (int i = 0; i < palette.getMapSize(); i++) {
                if (palette.getRed(i) != palette.getGreen(i) || palette.getRed(i) != palette.getBlue(i)) {
                    return false;
                }
            }
            return true;
        }
        return model.getColorSpace().getType() == ColorSpace.TYPE_GRAY;
    }

    private static byte[] decodeRaw(byte[] bytes, int channels, int height, int width) throws MalformedImageException {
        if (bytes.length < RAW_HEADER_BYTES) {
            throw new MalformedImageException(DeadLetters.UNDECODABLE, "raw image of " + bytes.length
                    + " bytes is shorter than its " + RAW_HEADER_BYTES + "-byte header");
        }
        int c = bytes[4] & 0xff;
        int h = ((bytes[5] & 0xff) << 8) | (bytes[6] & 0xff);
        int w = ((bytes[7] & 0xff) << 8) | (bytes[8] & 0xff);
        long declared = (long) c * h * w;
        int data = bytes.length - RAW_HEADER_BYTES;
        if (c < 1 || h < 1 || w < 1 || declared != data) {
            throw new MalformedImageException(DeadLetters.WRONG_SIZE, data + " pixel bytes are not a raw " + c + "x"
                    + h + "x" + w + " image");
        }
        if (c != channels) {
            throw new MalformedImageException(DeadLetters.WRONG_CHANNELS, "raw with " + c + " channels, expected "
                    + channels);
        }
        if (h != height || w != width) {
            throw new MalformedImageException(DeadLetters.WRONG_SHAPE, "raw of " + c + "x" + h + "x" + w
                    + ", expected " + channels + "x" + height + "x" + width);
        }
        byte[] out = new byte[data];
        System.arraycopy(bytes, RAW_HEADER_BYTES, out, 0, data);
        return out;
    }

    /** The raw encoding of channel-major 8-bit pixels (what producers that skip PNG write). */
    public static byte[] raw(byte[] pixels, int channels, int height, int width) {
        checkShape(pixels, channels, height, width);
        if (channels > 255 || height > 0xffff || width > 0xffff) {
            throw new IllegalArgumentException("a raw image has at most 255 channels and 65535 x 65535 pixels, not "
                    + channels + "x" + height + "x" + width);
        }
        byte[] out = new byte[RAW_HEADER_BYTES + pixels.length];
        System.arraycopy(RAW_MAGIC, 0, out, 0, RAW_MAGIC.length);
        out[4] = (byte) channels;
        out[5] = (byte) (height >> 8);
        out[6] = (byte) height;
        out[7] = (byte) (width >> 8);
        out[8] = (byte) width;
        System.arraycopy(pixels, 0, out, RAW_HEADER_BYTES, pixels.length);
        return out;
    }

    /** Lossless PNG of channel-major 8-bit pixels: 8-bit gray for 1 channel, 8-bit RGB for 3. */
    public static byte[] png(byte[] pixels, int channels, int height, int width) {
        checkShape(pixels, channels, height, width);
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("PNG images here have 1 or 3 channels, not " + channels);
        }
        BufferedImage image = new BufferedImage(width, height,
                channels == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
        WritableRaster raster = image.getRaster();
        int plane = height * width;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                for (int c = 0; c < channels; c++) {
                    raster.setSample(x, y, c, pixels[c * plane + y * width + x] & 0xff);
                }
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(image, "png", out)) {
                throw new IllegalStateException("this JVM has no PNG writer");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void checkShape(byte[] pixels, int channels, int height, int width) {
        if (channels < 1 || height < 1 || width < 1 || (long) channels * height * width != pixels.length) {
            throw new IllegalArgumentException(pixels.length + " pixel bytes are not a " + channels + "x" + height
                    + "x" + width + " image");
        }
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        if (bytes.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static String hexHead(byte[] bytes) {
        StringBuilder b = new StringBuilder("starts with");
        for (int i = 0; i < Math.min(8, bytes.length); i++) {
            b.append(String.format(" %02x", bytes[i] & 0xff));
        }
        return b.toString();
    }
}
