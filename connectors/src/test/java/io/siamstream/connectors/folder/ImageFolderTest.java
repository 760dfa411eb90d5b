package io.siamstream.connectors.folder;

import static io.siamstream.connectors.TestFiles.png;
import static io.siamstream.connectors.TestFiles.rgb;
import static io.siamstream.connectors.TestFiles.rgbImage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.connectors.TestFiles;
import io.siamstream.connectors.dataset.ImageSet;
import io.siamstream.connectors.dataset.Reject;
import io.siamstream.connectors.replay.DatasetEvaluation;
import io.siamstream.connectors.replay.ReplayDataset;
import io.siamstream.eval.EvaluationSet;
import io.siamstream.record.ImageRecord;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Image folders of generated PNG files, with corrupt and wrong-size files among them. */
class ImageFolderTest {

    private static final int SIZE = 8;

    @Test
    void labelsComeFromSortedSubFoldersAndFilesFromSortedPaths(@TempDir Path root) throws IOException {
        png(root.resolve("dog/b.png"), rgbImage(SIZE, SIZE, 1));
        png(root.resolve("dog/a.png"), rgbImage(SIZE, SIZE, 2));
        png(root.resolve("cat/x/deep.png"), rgbImage(SIZE, SIZE, 3));
        png(root.resolve("loose.png"), rgbImage(SIZE, SIZE, 4));
        Files.createDirectories(root.resolve("empty"));
        TestFiles.bytes(root.resolve("dog/notes.txt"), new byte[] {1, 2});   // not an image suffix: ignored
        png(root.resolve(".hidden/h.png"), rgbImage(SIZE, SIZE, 5));         // hidden: ignored

        ImageFolder.Listing listing = ImageFolder.list(root);
        assertThat(listing.classes()).containsExactly("cat", "dog", "empty");
        assertThat(listing.files()).extracting(ImageFolder.Entry::relative)
                .containsExactly("cat/x/deep.png", "dog/a.png", "dog/b.png", "loose.png");

        ImageSet set = ImageFolder.read(root, 3, SIZE);
        assertThat(set.labels()).containsExactly(0, 1, 1, ImageRecord.NO_LABEL);
        assertThat(set.numClasses()).isEqualTo(3);
        assertThat(set.rejects()).isEmpty();
        byte[] a = set.image(1); // dog/a.png, seed 2: channel-major RGB planes
        for (int c = 0; c < 3; c++) {
            assertThat(a[c * SIZE * SIZE + 3 * SIZE + 5] & 0xff).isEqualTo(rgb(2, c, 5, 3));
        }
        // as gray: PIL's luminance of the same pixel
        byte[] gray = ImageFolder.read(root, 1, SIZE).image(1);
        int l = (19595 * rgb(2, 0, 5, 3) + 38470 * rgb(2, 1, 5, 3) + 7471 * rgb(2, 2, 5, 3) + 0x8000) >> 16;
        assertThat(gray[3 * SIZE + 5] & 0xff).isEqualTo(l);
    }

    @Test
    void corruptAndWrongSizeFilesAreRejectedAndTheRestIsKept(@TempDir Path root) throws IOException {
        png(root.resolve("a/good1.png"), rgbImage(SIZE, SIZE, 1));
        TestFiles.bytes(root.resolve("a/corrupt.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0});
        Path good = png(root.resolve("b/good2.png"), rgbImage(SIZE, SIZE, 2));
        byte[] full = Files.readAllBytes(good);
        TestFiles.bytes(root.resolve("b/cut.png"), Arrays.copyOf(full, full.length / 2));
        png(root.resolve("b/large.png"), rgbImage(SIZE + 1, SIZE, 3));
        TestFiles.bytes(root.resolve("b/text.jpg"), "not a jpeg at all".getBytes());
        TestFiles.write(root.resolve("b/photo.jpg"), rgbImage(SIZE, SIZE, 4), "jpeg");
        byte[] jpeg = Files.readAllBytes(root.resolve("b/photo.jpg"));
        TestFiles.bytes(root.resolve("b/cutphoto.jpg"), Arrays.copyOf(jpeg, jpeg.length - 40));

        ImageSet set = ReplayDataset.imageFolder(root, 3, SIZE).load();
        assertThat(set.count()).isEqualTo(3); // good1, good2, photo
        assertThat(set.labels()).containsExactly(0, 1, 1);
        assertThat(set.rejects()).extracting(Reject::reason)
                .containsExactly("undecodable", "undecodable", "undecodable", "wrong-shape", "undecodable");
        assertThat(set.rejects()).extracting(Reject::detail).satisfiesExactly(
                d -> assertThat(d).contains("a/corrupt.png"),
                d -> assertThat(d).contains("b/cut.png"),
                d -> assertThat(d).contains("b/cutphoto.jpg"),
                d -> assertThat(d).contains("b/large.png", "image of 9x8, expected 8x8"),
                d -> assertThat(d).contains("b/text.jpg"));
        // deterministic: the same files give the same result
        assertThat(ReplayDataset.imageFolder(root, 3, SIZE).load().rejects()).isEqualTo(set.rejects());
    }

    @Test
    void nanSamplesOfAFloatingPointImageAreRejected(@TempDir Path root) throws IOException {
        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_GRAY), false, false,
                Transparency.OPAQUE, DataBuffer.TYPE_FLOAT);
        WritableRaster raster = cm.createCompatibleWritableRaster(SIZE, SIZE);
        raster.setSample(1, 2, 0, 0.5f);
        TestFiles.write(root.resolve("ok.tif"), new BufferedImage(cm, raster, false, null), "tiff");
        WritableRaster bad = cm.createCompatibleWritableRaster(SIZE, SIZE);
        bad.setSample(3, 4, 0, Float.NaN);
        TestFiles.write(root.resolve("nan.tif"), new BufferedImage(cm, bad, false, null), "tiff");

        ImageSet set = ImageFolder.read(root, 1, SIZE);
        assertThat(set.count()).isEqualTo(1);
        assertThat(set.image(0)[2 * SIZE + 1] & 0xff).isEqualTo(128);
        assertThat(set.rejects()).extracting(Reject::reason).containsExactly("nan-pixels");
        assertThat(set.rejects().get(0).detail()).contains("nan.tif", "NaN at (3, 4)");
    }

    @Test
    void aLabelledFolderEvaluatesOnHeldOutImages(@TempDir Path root) throws IOException {
        for (int i = 0; i < 10; i++) {
            png(root.resolve((i % 2 == 0 ? "even" : "odd") + "/img" + i + ".png"), rgbImage(SIZE, SIZE, i));
        }
        float[] mean = {0.5f, 0.5f, 0.5f};
        float[] std = {0.25f, 0.25f, 0.25f};
        EvaluationSet eval = DatasetEvaluation.heldOut(ReplayDataset.imageFolder(root, 3, SIZE), 5, mean, std, 2).get();
        // sorted: even/img0, img2, img4, img6, img8, odd/img1, ... ; every 5th is a query
        assertThat(eval.queryLabels()).containsExactly(0, 1);
        assertThat(eval.bankLabels()).hasSize(8);
        assertThat(eval.bank()).hasSize(8 * 3 * SIZE * SIZE);
    }

    @Test
    void aMissingFolderIsAnErrorNotAReject(@TempDir Path root) {
        assertThatThrownBy(() -> ImageFolder.read(root.resolve("absent"), 3, SIZE)).hasMessageContaining("no image folder");
        assertThatThrownBy(() -> ReplayDataset.imageFolder(root, 2, SIZE)).hasMessageContaining("source.channels");
    }
}
