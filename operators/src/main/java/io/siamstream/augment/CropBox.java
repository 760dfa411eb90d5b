package io.siamstream.augment;

/** A crop rectangle: top-left corner and size, in pixels of the source image. */
public record CropBox(int top, int left, int height, int width) implements java.io.Serializable {

    public double area() {
        return (double) height * width;
    }

    public double aspectRatio() {
        return (double) width / height;
    }
}
