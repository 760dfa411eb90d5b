package io.siamstream.connectors.dataset;

import io.siamstream.record.ImageRecord;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Same-shaped 8-bit images (channel-major, C x H x W each) with a label per image ({@link ImageRecord#NO_LABEL} when
 * there is none), and what was rejected while loading them: the good images of a dataset plus its bad input, as every
 * loader returns them. Loaders never throw for bad content, only when there is nothing to read at all.
 *
 * @param source     what was loaded (for messages)
 * @param numClasses the dataset's class count (0 when unknown or unlabelled)
 * @param rejects    the bad input found while loading, in file order (deterministic)
 */
public record ImageSet(String source, int channels, int height, int width, byte[] pixels, int[] labels,
                       int numClasses, List<Reject> rejects) {

    public ImageSet {
        if (channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("image shape " + channels + "x" + height + "x" + width + " is not positive");
        }
        if ((long) labels.length * channels * height * width != pixels.length) {
            throw new IllegalArgumentException(pixels.length + " pixel bytes are not " + labels.length + " images of "
                    + channels + "x" + height + "x" + width);
        }
        rejects = List.copyOf(rejects);
    }

    public int count() {
        return labels.length;
    }

    /** Bytes per image: channels x height x width. */
    public int imageBytes() {
        return channels * height * width;
    }

    /** The label of image {@code index}, or {@link ImageRecord#NO_LABEL}. */
    public int label(int index) {
        return labels[index];
    }

    /** A copy of the pixels of image {@code index}. */
    public byte[] image(int index) {
        int size = imageBytes();
        return Arrays.copyOfRange(pixels, index * size, (index + 1) * size);
    }

    /** The images that have a label (rejects are kept). */
    public ImageSet labelledOnly() {
        List<Integer> keep = new ArrayList<>();
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] != ImageRecord.NO_LABEL) {
                keep.add(i);
            }
        }
        return select(keep.stream().mapToInt(Integer::intValue).toArray());
    }

    /** The images at {@code indices}, in that order (rejects are kept). */
    public ImageSet select(int[] indices) {
        int size = imageBytes();
        byte[] out = new byte[indices.length * size];
        int[] outLabels = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(pixels, indices[i] * size, out, i * size, size);
            outLabels[i] = labels[indices[i]];
        }
        return new ImageSet(source, channels, height, width, out, outLabels, numClasses, rejects);
    }

    /**
     * All images as floats normalised per channel with (x / 255 - mean[c]) / std[c], N x C x H x W: the input of
     * evaluation, computed as the views are.
     */
    public float[] normalized(float[] mean, float[] std) {
        if (mean.length != channels || std.length != channels) {
            throw new IllegalArgumentException("normalisation of " + channels + "-channel images needs " + channels
                    + " means and stds, got " + mean.length + " and " + std.length);
        }
        int plane = height * width;
        float[] out = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            int c = (i / plane) % channels;
            out[i] = ((pixels[i] & 0xff) * (1f / 255f) - mean[c]) / std[c];
        }
        return out;
    }

    /** Grows an image set image by image, collecting rejects on the way. */
    public static final class Builder {
        private final String source;
        private final int channels;
        private final int height;
        private final int width;
        private final int numClasses;
        private byte[] pixels;
        private int[] labels;
        private int count;
        private final List<Reject> rejects = new ArrayList<>();

        public Builder(String source, int channels, int height, int width, int numClasses, int expectedCount) {
            this.source = source;
            this.channels = channels;
            this.height = height;
            this.width = width;
            this.numClasses = numClasses;
            // a hint from file sizes or headers: trusted up to 256 MiB, grown beyond
            int initial = Math.max(16, Math.min(expectedCount, (256 << 20) / Math.max(1, channels * height * width)));
            this.pixels = new byte[initial * channels * height * width];
            this.labels = new int[initial];
        }

        /** Adds image bytes {@code [offset, offset + C x H x W)} of {@code data} with its label. */
        public Builder add(byte[] data, int offset, int label) {
            int size = channels * height * width;
            if (count == labels.length) {
                int grown = labels.length * 2;
                labels = Arrays.copyOf(labels, grown);
                pixels = Arrays.copyOf(pixels, grown * size);
            }
            System.arraycopy(data, offset, pixels, count * size, size);
            labels[count++] = label;
            return this;
        }

        public Builder reject(String reason, String detail) {
            rejects.add(new Reject(reason, detail));
            return this;
        }

        public Builder addAll(ImageSet other) {
            if (other.channels != channels || other.height != height || other.width != width) {
                throw new IllegalArgumentException("cannot add " + other.channels + "x" + other.height + "x"
                        + other.width + " images to a set of " + channels + "x" + height + "x" + width);
            }
            for (int i = 0; i < other.count(); i++) {
                add(other.pixels, i * other.imageBytes(), other.labels[i]);
            }
            rejects.addAll(other.rejects);
            return this;
        }

        public int count() {
            return count;
        }

        public ImageSet build() {
            int size = channels * height * width;
            byte[] outPixels = pixels.length == count * size ? pixels : Arrays.copyOf(pixels, count * size);
            int[] outLabels = labels.length == count ? labels : Arrays.copyOf(labels, count);
            pixels = null;
            labels = null;
            return new ImageSet(source, channels, height, width, outPixels, outLabels, numClasses, rejects);
        }
    }
}
