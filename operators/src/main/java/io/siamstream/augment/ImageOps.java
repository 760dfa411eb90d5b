package io.siamstream.augment;

/**
 * Deterministic image operations on {@link Image}s, each matching the torchvision functional op of the same name
 * on float tensors (torchvision 0.14: {@code resized_crop} bilinear without antialias, {@code hflip},
 * {@code adjust_brightness}, {@code adjust_contrast}, {@code adjust_saturation}, {@code adjust_hue},
 * {@code rgb_to_grayscale}, {@code gaussian_blur} with reflect padding, {@code solarize}, {@code normalize}).
 * Operations that only make sense in colour (saturation, hue, grayscale) return 1-channel images unchanged.
 */
public final class ImageOps {

    private ImageOps() {}

    /** Crops {@code box} and resizes it to outH x outW with bilinear interpolation (half-pixel centres). */
    public static Image resizedCrop(Image img, CropBox box, int outH, int outW) {
        float[] out = new float[img.channels() * outH * outW];
        float scaleY = (float) box.height() / outH;
        float scaleX = (float) box.width() / outW;
        int[] x0 = new int[outW];
        int[] x1 = new int[outW];
        float[] lx = new float[outW];
        for (int x = 0; x < outW; x++) {
            float src = Math.max(0f, (x + 0.5f) * scaleX - 0.5f);
            int i0 = Math.min((int) src, box.width() - 1);
            x0[x] = box.left() + i0;
            x1[x] = box.left() + Math.min(i0 + 1, box.width() - 1);
            lx[x] = src - i0;
        }
        int w = img.width();
        float[] in = img.data();
        for (int y = 0; y < outH; y++) {
            float src = Math.max(0f, (y + 0.5f) * scaleY - 0.5f);
            int i0 = Math.min((int) src, box.height() - 1);
            int y0 = box.top() + i0;
            int y1 = box.top() + Math.min(i0 + 1, box.height() - 1);
            float ly = src - i0;
            for (int c = 0; c < img.channels(); c++) {
                int base = c * img.plane();
                int row0 = base + y0 * w;
                int row1 = base + y1 * w;
                int o = (c * outH + y) * outW;
                for (int x = 0; x < outW; x++) {
                    float top = in[row0 + x0[x]] + (in[row0 + x1[x]] - in[row0 + x0[x]]) * lx[x];
                    float bottom = in[row1 + x0[x]] + (in[row1 + x1[x]] - in[row1 + x0[x]]) * lx[x];
                    out[o + x] = top + (bottom - top) * ly;
                }
            }
        }
        return new Image(img.channels(), outH, outW, out);
    }

    /** Mirrors left and right. */
    public static Image horizontalFlip(Image img) {
        float[] in = img.data();
        float[] out = new float[in.length];
        int w = img.width();
        for (int row = 0; row < img.channels() * img.height(); row++) {
            int o = row * w;
            for (int x = 0; x < w; x++) {
                out[o + x] = in[o + w - 1 - x];
            }
        }
        return new Image(img.channels(), img.height(), w, out);
    }

    /** clamp(img x factor, 0, 1). */
    public static Image adjustBrightness(Image img, float factor) {
        float[] out = img.data().clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = clamp(out[i] * factor);
        }
        return new Image(img.channels(), img.height(), img.width(), out);
    }

    /** Blends with the mean of the grayscale image: clamp(f x img + (1 - f) x mean). */
    public static Image adjustContrast(Image img, float factor) {
        float[] gray = luminance(img);
        double sum = 0;
        for (float v : gray) {
            sum += v;
        }
        float mean = (float) (sum / gray.length);
        float[] out = img.data().clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = clamp(factor * out[i] + (1 - factor) * mean);
        }
        return new Image(img.channels(), img.height(), img.width(), out);
    }

    /** Blends with the grayscale image; a no-op on 1 channel (saturation is undefined there). */
    public static Image adjustSaturation(Image img, float factor) {
        if (img.channels() == 1) {
            return img;
        }
        float[] gray = luminance(img);
        float[] out = img.data().clone();
        int plane = img.plane();
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < plane; i++) {
                out[c * plane + i] = clamp(factor * out[c * plane + i] + (1 - factor) * gray[i]);
            }
        }
        return new Image(3, img.height(), img.width(), out);
    }

    /**
     * Rotates the hue by {@code shift} turns (in [-0.5, 0.5]) through HSV; a no-op on 1 channel. The wrap-arounds are
     * written without float {@code %} (which made this the slowest op), with the same results bit for bit.
     */
    public static Image adjustHue(Image img, float shift) {
        if (img.channels() == 1) {
            return img;
        }
        float[] in = img.data();
        float[] out = new float[in.length];
        int plane = img.plane();
        for (int i = 0; i < plane; i++) {
            float r = in[i];
            float g = in[plane + i];
            float b = in[2 * plane + i];
            float max = Math.max(r, Math.max(g, b));
            float min = Math.min(r, Math.min(g, b));
            float cr = max - min;
            float v = max;
            float s = cr / (max == 0 ? 1 : max);
            float h = 0;
            if (cr != 0) {
                float rc = (max - r) / cr;
                float gc = (max - g) / cr;
                float bc = (max - b) / cr;
                if (max == r) {
                    h = bc - gc;
                } else if (max == g) {
                    h = 2f + rc - bc;
                } else {
                    h = 4f + gc - rc;
                }
                h = h / 6f + 1f;          // in [5/6, 2)
                if (h >= 1f) {
                    h -= 1f;              // fmod(h, 1), exact in this range
                }
            }
            h += shift;
            h -= (float) Math.floor(h);   // torch.remainder(h, 1)
            float h6 = h * 6f;
            float floor = (float) Math.floor(h6);
            float f = h6 - floor;
            float p = clamp(v * (1 - s));
            float q = clamp(v * (1 - s * f));
            float t = clamp(v * (1 - s * (1 - f)));
            float ro;
            float go;
            float bo;
            switch ((int) floor) {        // 0..6; 6 only when h rounds up to 1, the same sector as 0
                case 1 -> { ro = q; go = v; bo = p; }
                case 2 -> { ro = p; go = v; bo = t; }
                case 3 -> { ro = p; go = q; bo = v; }
                case 4 -> { ro = t; go = p; bo = v; }
                case 5 -> { ro = v; go = p; bo = q; }
                default -> { ro = v; go = t; bo = p; }
            }
            out[i] = ro;
            out[plane + i] = go;
            out[2 * plane + i] = bo;
        }
        return new Image(3, img.height(), img.width(), out);
    }

    /** ITU-R 601 luminance replicated to 3 channels; a no-op on 1 channel (the image is already gray). */
    public static Image grayscale(Image img) {
        if (img.channels() == 1) {
            return img;
        }
        float[] gray = luminance(img);
        float[] out = new float[img.data().length];
        for (int c = 0; c < 3; c++) {
            System.arraycopy(gray, 0, out, c * gray.length, gray.length);
        }
        return new Image(3, img.height(), img.width(), out);
    }

    /** Separable Gaussian blur with an odd kernel size and reflect padding (torchvision's gaussian_blur). */
    public static Image gaussianBlur(Image img, int kernelSize, float sigma) {
        if (kernelSize < 1 || kernelSize % 2 == 0) {
            throw new IllegalArgumentException("blur kernel size must be odd and positive, not " + kernelSize);
        }
        float[] kernel = new float[kernelSize];
        int half = kernelSize / 2;
        float sum = 0;
        for (int i = 0; i < kernelSize; i++) {
            float x = i - half;
            kernel[i] = (float) Math.exp(-0.5 * (x / sigma) * (x / sigma));
            sum += kernel[i];
        }
        for (int i = 0; i < kernelSize; i++) {
            kernel[i] /= sum;
        }
        int h = img.height();
        int w = img.width();
        float[] in = img.data();
        float[] tmp = new float[in.length];
        float[] out = new float[in.length];
        float[] padded = new float[w + 2 * half];
        int[] rows = new int[h + 2 * half];
        for (int y = 0; y < rows.length; y++) {
            rows[y] = reflect(y - half, h);
        }
        // taps outermost, pixels innermost: each output still sums its taps in kernel order, so the result is
        // bit-identical to the direct loop, and the inner loops vectorise
        for (int c = 0; c < img.channels(); c++) {
            int base = c * img.plane();
            for (int y = 0; y < h; y++) {
                int row = base + y * w;
                for (int x = 0; x < padded.length; x++) {
                    padded[x] = in[row + reflect(x - half, w)];
                }
                for (int k = 0; k < kernelSize; k++) {
                    float weight = kernel[k];
                    for (int x = 0; x < w; x++) {
                        tmp[row + x] += weight * padded[x + k];
                    }
                }
            }
            for (int y = 0; y < h; y++) {
                int row = base + y * w;
                for (int k = 0; k < kernelSize; k++) {
                    float weight = kernel[k];
                    int src = base + rows[y + k] * w;
                    for (int x = 0; x < w; x++) {
                        out[row + x] += weight * tmp[src + x];
                    }
                }
            }
        }
        return new Image(img.channels(), h, w, out);
    }

    /** Inverts every value at or above {@code threshold}. */
    public static Image solarize(Image img, float threshold) {
        float[] out = img.data().clone();
        for (int i = 0; i < out.length; i++) {
            if (out[i] >= threshold) {
                out[i] = 1f - out[i];
            }
        }
        return new Image(img.channels(), img.height(), img.width(), out);
    }

    /** (x - mean[c]) / std[c] per channel. */
    public static float[] normalize(Image img, float[] mean, float[] std) {
        float[] out = img.data().clone();
        int plane = img.plane();
        for (int c = 0; c < img.channels(); c++) {
            float m = mean[c];
            float inv = 1f / std[c];
            for (int i = c * plane; i < (c + 1) * plane; i++) {
                out[i] = (out[i] - m) * inv;
            }
        }
        return out;
    }

    /** The grayscale plane (0.2989 R + 0.587 G + 0.114 B), or the single plane of a gray image. */
    static float[] luminance(Image img) {
        if (img.channels() == 1) {
            return img.data();
        }
        int plane = img.plane();
        float[] in = img.data();
        float[] gray = new float[plane];
        for (int i = 0; i < plane; i++) {
            gray[i] = 0.2989f * in[i] + 0.587f * in[plane + i] + 0.114f * in[2 * plane + i];
        }
        return gray;
    }

    private static int reflect(int i, int n) {
        if (n == 1) {
            return 0;
        }
        while (i < 0 || i >= n) {
            i = i < 0 ? -i : 2 * (n - 1) - i;
        }
        return i;
    }

    private static float clamp(float v) {
        return v < 0f ? 0f : (v > 1f ? 1f : v);
    }
}
