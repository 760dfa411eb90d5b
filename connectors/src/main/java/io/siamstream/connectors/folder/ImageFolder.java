package io.siamstream.connectors.folder;

import io.siamstream.connectors.dataset.ImageSet;
import io.siamstream.flink.DeadLetters;
import io.siamstream.record.ImageRecord;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * A folder of image files (PNG, JPEG, and whatever else javax.imageio reads: BMP, GIF, TIFF), in the layout of
 * torchvision's ImageFolder: each sub-folder of the root is a class (sorted names give labels 0..n-1, files nested
 * deeper belong to the class of their top folder), files directly in the root have no label. Files are taken in the
 * order of their sorted relative paths ('/'-separated), so the order does not depend on the file system; hidden files
 * and folders (a name starting with '.') and files with other suffixes are ignored.
 *
 * <p>Every image must be {@code size x size}; images of another size are rejected ({@code wrong-shape}), not
 * resized. Colour is converted to the configured channels: gray to RGB by copying, RGB to gray with PIL's luminance
 * (L = (19595 R + 38470 G + 7471 B + 2^15) >> 16); alpha is dropped; 16-bit samples are scaled to 8 bits,
 * floating-point samples (TIFF) are taken as [0, 1] and clamped. Files that cannot be decoded, or whose decoder
 * warns (a cut JPEG), are rejected ({@code undecodable}); NaN or infinite samples are rejected ({@code nan-pixels}).
 */
public final class ImageFolder {

    /** File suffixes (lower case) taken as images. */
    public static final Set<String> SUFFIXES = Set.of("png", "jpg", "jpeg", "bmp", "gif", "tif", "tiff");

    private ImageFolder() {}

    /** One image file: its path, its path relative to the root ('/'-separated) and its label. */
    public record Entry(Path path, String relative, int label) {}

    /** The classes (sorted sub-folder names) and the image files (sorted by relative path) of a root folder. */
    public record Listing(Path root, List<String> classes, List<Entry> files) {
        /** True when some image file is in a class folder. */
        public boolean labelled() {
            return files.stream().anyMatch(e -> e.label() != ImageRecord.NO_LABEL);
        }
    }

    /** The classes of {@code root}: its non-hidden sub-folder names, sorted. */
    public static List<String> classes(Path root) throws IOException {
        requireFolder(root);
        try (Stream<Path> children = Files.list(root)) {
            return children.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith("."))
                    .sorted()
                    .toList();
        }
    }

    /** Lists the image files of {@code root} without decoding them. */
    public static Listing list(Path root) throws IOException {
        List<String> classes = classes(root);
        List<Entry> files = new ArrayList<>();
        try (Stream<Path> all = Files.walk(root)) {
            walk(root, classes, all, files);
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
        files.sort(Comparator.comparing(Entry::relative));
        return new Listing(root, classes, List.copyOf(files));
    }

    private static void walk(Path root, List<String> classes, Stream<Path> all, List<Entry> files) {
        for (Path p : (Iterable<Path>) all::iterator) {
            if (p.equals(root) || !Files.isRegularFile(p)) {
                continue;
            }
            Path rel = root.relativize(p);
            boolean hidden = false;
            for (Path part : rel) {
                hidden |= part.toString().startsWith(".");
            }
            String name = p.getFileName().toString();
            int dot = name.lastIndexOf('.');
            if (hidden || dot < 0 || !SUFFIXES.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT))) {
                continue;
            }
            StringBuilder relative = new StringBuilder();
            for (Path part : rel) {
                relative.append(relative.length() == 0 ? "" : "/").append(part);
            }
            int label = rel.getNameCount() > 1 ? classes.indexOf(rel.getName(0).toString()) : ImageRecord.NO_LABEL;
            files.add(new Entry(p, relative.toString(), label));
        }
    }

    /**
     * Decodes every image file of {@code root} to {@code channels x size x size} bytes; each file that cannot be used
     * becomes a reject naming it. Throws only when {@code root} is not a readable folder.
     */
    public static ImageSet read(Path root, int channels, int size) throws IOException {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("source.channels: " + channels + " is not allowed; allowed values: 1, 3");
        }
        if (size < 1) {
            throw new IllegalArgumentException("source.image-size: " + size + " must be positive");
        }
        Listing listing = list(root);
        ImageSet.Builder out = new ImageSet.Builder(root.toString(), channels, size, size, listing.classes().size(),
                listing.files().size());
        for (Entry e : listing.files()) {
            try {
                out.add(decode(e.path(), channels, size), 0, e.label());
            } catch (Rejected r) {
                out.reject(r.reason, e.path() + ": " + r.getMessage());
            }
        }
        return out.build();
    }

    /** Why a file was not used. */
    static final class Rejected extends Exception {
        private static final long serialVersionUID = 1L;
        final String reason;

        Rejected(String reason, String message) {
            super(message);
            this.reason = reason;
        }
    }

    /** Decodes one file to {@code channels x size x size} channel-major bytes, or says why it cannot be used. */
    static byte[] decode(Path file, int channels, int size) throws Rejected {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                throw new Rejected(DeadLetters.UNREADABLE, "cannot be opened");
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new Rejected(DeadLetters.UNDECODABLE, "not an image format javax.imageio can decode");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                // the size from the header first: a wrong or absurd size is never decoded (nor allocated)
                int width = reader.getWidth(0);
                int height = reader.getHeight(0);
                if (width != size || height != size) {
                    throw new Rejected(DeadLetters.WRONG_SHAPE, "image of " + width + "x" + height + ", expected "
                            + size + "x" + size + " (images are not resized)");
                }
                BufferedImage image = reader.read(0);
                if (!warnings.isEmpty()) {
                    throw new Rejected(DeadLetters.UNDECODABLE, "the " + reader.getFormatName() + " decoder warned: "
                            + String.join("; ", warnings));
                }
                return pixels(image, channels);
            } finally {
                reader.dispose();
            }
        } catch (Rejected r) {
            throw r;
        } catch (IOException | RuntimeException e) {
            throw new Rejected(DeadLetters.UNDECODABLE, "cannot be decoded: " + e);
        }
    }

    /** The image as {@code channels} planes of 8-bit samples. */
    static byte[] pixels(BufferedImage image, int channels) throws Rejected {
        int w = image.getWidth();
        int h = image.getHeight();
        int plane = w * h;
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        int type = raster.getDataBuffer().getDataType();
        int space = cm.getColorSpace().getType();
        boolean integer = type == DataBuffer.TYPE_BYTE || type == DataBuffer.TYPE_USHORT || type == DataBuffer.TYPE_INT;
        boolean floating = type == DataBuffer.TYPE_FLOAT || type == DataBuffer.TYPE_DOUBLE;
        int colours = cm.getNumColorComponents();
        byte[] gray = null;
        byte[][] rgb = null;
        if (!(cm instanceof IndexColorModel) && (integer || floating)
                && ((space == ColorSpace.TYPE_GRAY && colours == 1) || (space == ColorSpace.TYPE_RGB && colours == 3))) {
            byte[][] bands = new byte[colours][plane];
            for (int b = 0; b < colours; b++) {
                int max = integer ? (int) ((1L << cm.getComponentSize(b)) - 1) : 0;
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int v;
                        if (integer) {
                            int s = raster.getSample(x, y, b);
                            v = max == 255 ? s : (int) Math.round(s * 255.0 / max);
                        } else {
                            double s = raster.getSampleDouble(x, y, b);
                            if (!Double.isFinite(s)) {
                                throw new Rejected(DeadLetters.NAN_PIXELS, "sample " + s + " at (" + x + ", " + y
                                        + ") of channel " + b);
                            }
                            v = (int) Math.round(Math.min(1.0, Math.max(0.0, s)) * 255.0);
                        }
                        bands[b][y * w + x] = (byte) Math.min(255, Math.max(0, v));
                    }
                }
            }
            if (colours == 1) {
                gray = bands[0];
            } else {
                rgb = bands;
            }
        } else {
            // palettes and other colour spaces: the colour model's own conversion to sRGB
            rgb = new byte[3][plane];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int argb = image.getRGB(x, y);
                    rgb[0][y * w + x] = (byte) (argb >> 16);
                    rgb[1][y * w + x] = (byte) (argb >> 8);
                    rgb[2][y * w + x] = (byte) argb;
                }
            }
        }
        byte[] out = new byte[channels * plane];
        if (channels == 1) {
            if (gray == null) {
                gray = new byte[plane];
                for (int i = 0; i < plane; i++) {
                    int l = (19595 * (rgb[0][i] & 0xff) + 38470 * (rgb[1][i] & 0xff) + 7471 * (rgb[2][i] & 0xff)
                            + 0x8000) >> 16;
                    gray[i] = (byte) l;
                }
            }
            System.arraycopy(gray, 0, out, 0, plane);
        } else {
            for (int c = 0; c < 3; c++) {
                System.arraycopy(rgb == null ? gray : rgb[c], 0, out, c * plane, plane);
            }
        }
        return out;
    }

    private static void requireFolder(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            throw new IOException("no image folder at " + root);
        }
    }
}
