package io.siamstream.connectors.replay;

import io.siamstream.connectors.cifar.Cifar10;
import io.siamstream.connectors.dataset.ImageSet;
import io.siamstream.connectors.folder.ImageFolder;
import io.siamstream.connectors.idx.FashionMnist;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;

/**
 * Which images a replay source reads: a small serialisable description, loaded by each reader when it starts (the
 * images themselves are not shipped with the job graph). {@link #load} keeps the good images and returns the bad
 * input as rejects (see {@link ImageSet}); it throws only when there is nothing to read at all.
 */
public sealed interface ReplayDataset extends Serializable
        permits ReplayDataset.FashionMnistFiles, ReplayDataset.Cifar10Files, ReplayDataset.ImageFolderFiles {

    /** The good images and the rejects, deterministically (the same files give the same result on every reader). */
    ImageSet load() throws IOException;

    DatasetFormat format();

    /** Channels of every image (1 or 3). */
    int channels();

    /** Height and width of every image. */
    int size();

    /** The bundled Fashion-MNIST sample. */
    static ReplayDataset bundled(FashionMnist.Split split) {
        return new FashionMnistFiles(null, split);
    }

    static ReplayDataset fashionMnist(Path directory, FashionMnist.Split split) {
        return new FashionMnistFiles(directory.toString(), split);
    }

    static ReplayDataset cifar10(Path directory, Cifar10.Split split) {
        return new Cifar10Files(directory.toString(), split);
    }

    static ReplayDataset imageFolder(Path root, int channels, int size) {
        return new ImageFolderFiles(root.toString(), channels, size);
    }

    /** Fashion-MNIST IDX files in {@code directory} (null: the bundled sample). */
    record FashionMnistFiles(String directory, FashionMnist.Split split) implements ReplayDataset {
        public FashionMnistFiles {
            if (split == null) {
                throw new IllegalArgumentException("a Fashion-MNIST split is required");
            }
        }

        @Override
        public ImageSet load() throws IOException {
            return FashionMnist.load(directory == null ? null : Path.of(directory), split);
        }

        @Override
        public DatasetFormat format() {
            return DatasetFormat.FASHION_MNIST;
        }

        @Override
        public int channels() {
            return 1;
        }

        @Override
        public int size() {
            return FashionMnist.SIDE;
        }

        @Override
        public String toString() {
            return (directory == null ? "bundled Fashion-MNIST sample" : directory) + " (" + split + ")";
        }
    }

    /** CIFAR-10 binary batches in {@code directory} (or its cifar-10-batches-bin folder). */
    record Cifar10Files(String directory, Cifar10.Split split) implements ReplayDataset {
        public Cifar10Files {
            if (directory == null || split == null) {
                throw new IllegalArgumentException("CIFAR-10 needs a directory and a split");
            }
        }

        @Override
        public ImageSet load() throws IOException {
            return Cifar10.read(Path.of(directory), split);
        }

        @Override
        public DatasetFormat format() {
            return DatasetFormat.CIFAR10;
        }

        @Override
        public int channels() {
            return Cifar10.CHANNELS;
        }

        @Override
        public int size() {
            return Cifar10.SIDE;
        }

        @Override
        public String toString() {
            return "CIFAR-10 " + directory + " (" + split + ")";
        }
    }

    /** The image files under {@code directory}, each {@code channels x size x size}. */
    record ImageFolderFiles(String directory, int channels, int size) implements ReplayDataset {
        public ImageFolderFiles {
            if (directory == null) {
                throw new IllegalArgumentException("an image folder needs a directory");
            }
            if (channels != 1 && channels != 3) {
                throw new IllegalArgumentException("source.channels: " + channels + " is not allowed; allowed values: 1, 3");
            }
            if (size < 1) {
                throw new IllegalArgumentException("source.image-size: " + size + " must be positive");
            }
        }

        @Override
        public ImageSet load() throws IOException {
            return ImageFolder.read(Path.of(directory), channels, size);
        }

        @Override
        public DatasetFormat format() {
            return DatasetFormat.IMAGE_FOLDER;
        }

        @Override
        public String toString() {
            return "image folder " + directory + " (" + channels + "x" + size + "x" + size + ")";
        }
    }
}
