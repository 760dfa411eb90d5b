package io.siamstream.connectors.idx;

import static io.siamstream.connectors.TestFiles.idxImages;
import static io.siamstream.connectors.TestFiles.idxLabels;
import static io.siamstream.connectors.TestFiles.pixel;
import static org.assertj.core.api.Assertions.assertThat;

import io.siamstream.connectors.TestFiles;
import io.siamstream.connectors.dataset.ImageSet;
import io.siamstream.connectors.dataset.Reject;
import io.siamstream.record.ImageRecord;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Lenient IDX loading: every complete image is kept, every defect is a reject that names the file. */
class IdxLenientTest {

    private static ImageSet load(byte[] images, byte[] labels, int rows, int cols, int classes) {
        return IdxFormat.load("img.idx", new ByteArrayInputStream(images), "lbl.idx",
                labels == null ? null : new ByteArrayInputStream(labels), rows, cols, classes);
    }

    @Test
    void aTruncatedFileKeepsItsCompleteImages() throws IOException {
        byte[] full = idxImages(IdxFormat.IMAGES_MAGIC, 5, 5, 4, 4, false);
        byte[] cut = Arrays.copyOf(full, 16 + 3 * 16 + 9); // 3 images and 9 bytes of the 4th
        ImageSet set = load(cut, idxLabels(IdxFormat.LABELS_MAGIC, 5, 0, 1, 2, 3, 4), 4, 4, 10);
        assertThat(set.count()).isEqualTo(3);
        assertThat(set.labels()).containsExactly(0, 1, 2);
        for (int i = 0; i < 16; i++) {
            assertThat(set.image(2)[i]).isEqualTo(pixel(2, i));
        }
        assertThat(set.rejects()).hasSize(1);
        Reject r = set.rejects().get(0);
        assertThat(r.reason()).isEqualTo("truncated");
        assertThat(r.detail()).contains("img.idx", "5 images of 4x4", "ends early", "after 3 complete images",
                "9 of the 16 bytes", "2 missing images");
    }

    @Test
    void aCutGzipStreamKeepsWhatCouldBeInflated() throws IOException {
        byte[] zipped = idxImages(IdxFormat.IMAGES_MAGIC, 200, 200, 28, 28, true);
        ImageSet set = load(Arrays.copyOf(zipped, zipped.length / 2), null, 28, 28, 10);
        assertThat(set.count()).isLessThan(200);
        assertThat(set.rejects()).extracting(Reject::reason).containsExactly("truncated");
        assertThat(set.rejects().get(0).detail()).contains("img.idx", "200 images of 28x28", "ends early");
        for (int n = 0; n < set.count(); n++) {
            assertThat(set.image(n)[5]).isEqualTo(pixel(n, 5));
        }
    }

    @Test
    void wrongMagicRejectsTheFile() throws IOException {
        ImageSet set = load(idxImages(0x00000801, 3, 3, 4, 4, false), null, 4, 4, 10);
        assertThat(set.count()).isZero();
        assertThat(set.rejects()).extracting(Reject::reason).containsExactly("bad-magic");
        assertThat(set.rejects().get(0).detail()).contains("img.idx", "wrong magic 0x00000801");
    }

    @Test
    void imagesOfAnotherSizeAreRejected() throws IOException {
        ImageSet set = load(idxImages(3, 5, 5, false), null, 28, 28, 10);
        assertThat(set.count()).isZero();
        assertThat(set.rejects()).extracting(Reject::reason).containsExactly("wrong-shape");
        assertThat(set.rejects().get(0).detail()).contains("images of 5x5, expected 28x28");
        ImageSet absurd = load(idxImages(IdxFormat.IMAGES_MAGIC, 1, 0, 100000, 28, false), null, 0, 0, 0);
        assertThat(absurd.rejects()).extracting(Reject::reason).containsExactly("bad-header");
        ImageSet headerOnly = load(Arrays.copyOf(idxImages(1, 4, 4, false), 9), null, 4, 4, 0);
        assertThat(headerOnly.rejects()).extracting(Reject::detail).containsExactly("img.idx: truncated IDX header: no row count");
    }

    @Test
    void aLabelFileThatDoesNotFitLeavesTheImagesUnlabelled() throws IOException {
        byte[] images = idxImages(3, 4, 4, false);
        ImageSet mismatch = load(images, idxLabels(IdxFormat.LABELS_MAGIC, 2, 1, 2), 4, 4, 10);
        assertThat(mismatch.count()).isEqualTo(3);
        assertThat(mismatch.labels()).containsOnly(ImageRecord.NO_LABEL);
        assertThat(mismatch.rejects()).extracting(Reject::reason).containsExactly("label-mismatch");
        assertThat(mismatch.rejects().get(0).detail()).contains("lbl.idx", "2 labels for 3 images");

        ImageSet badMagic = load(images, idxLabels(IdxFormat.IMAGES_MAGIC, 3, 1, 2, 3), 4, 4, 10);
        assertThat(badMagic.count()).isEqualTo(3);
        assertThat(badMagic.rejects()).extracting(Reject::reason).containsExactly("bad-magic");

        ImageSet cut = load(images, Arrays.copyOf(idxLabels(IdxFormat.LABELS_MAGIC, 3, 1, 2, 3), 9), 4, 4, 10);
        assertThat(cut.labels()).containsExactly(1, ImageRecord.NO_LABEL, ImageRecord.NO_LABEL);
        assertThat(cut.rejects()).extracting(Reject::reason).containsExactly("truncated");
    }

    @Test
    void unknownLabelsDropTheirImages() throws IOException {
        ImageSet set = load(idxImages(4, 2, 2, false), idxLabels(IdxFormat.LABELS_MAGIC, 4, 1, 10, 9, 255), 2, 2, 10);
        assertThat(set.labels()).containsExactly(1, 9);
        assertThat(set.image(1)).containsExactly(pixel(2, 0), pixel(2, 1), pixel(2, 2), pixel(2, 3));
        assertThat(set.rejects()).extracting(Reject::reason).containsExactly("unknown-label", "unknown-label");
        assertThat(set.rejects().get(0).detail()).contains("image 1 has label 10");
        assertThat(set.rejects().get(1).detail()).contains("image 3 has label 255");
    }

    @Test
    void fashionMnistFromADirectoryIsLenient(@TempDir Path dir) throws IOException {
        TestFiles.bytes(dir.resolve(FashionMnist.Split.TRAIN.imagesFile()),
                idxImages(IdxFormat.IMAGES_MAGIC, 4, 2, 28, 28, true));
        TestFiles.bytes(dir.resolve(FashionMnist.Split.TRAIN.labelsFile()), idxLabels(IdxFormat.LABELS_MAGIC, 4, 3, 4, 5, 6));
        ImageSet set = FashionMnist.load(dir, FashionMnist.Split.TRAIN);
        assertThat(set.count()).isEqualTo(2);
        assertThat(set.labels()).containsExactly(3, 4);
        assertThat(set.rejects()).extracting(Reject::reason).containsExactly("truncated");
        assertThat(set.rejects().get(0).detail()).contains(FashionMnist.Split.TRAIN.imagesFile());
        // no labels file at all: the images are kept, unlabelled, and a reject says why
        TestFiles.bytes(dir.resolve("t").resolve(FashionMnist.Split.TEST.imagesFile()), idxImages(2, 28, 28, false));
        ImageSet test = FashionMnist.load(dir.resolve("t"), FashionMnist.Split.TEST);
        assertThat(test.labels()).containsExactly(ImageRecord.NO_LABEL, ImageRecord.NO_LABEL);
        assertThat(test.rejects()).extracting(Reject::reason).containsExactly("unreadable");
    }

    @Test
    void theBundledSampleLoadsWithoutRejects() throws IOException {
        ImageSet set = FashionMnist.load(null, FashionMnist.Split.TEST);
        assertThat(set.count()).isEqualTo(1000);
        assertThat(set.rejects()).isEmpty();
        LabeledImages strict = FashionMnist.sample(FashionMnist.Split.TEST);
        assertThat(set.pixels()).isEqualTo(strict.pixels());
        assertThat(set.labels()).isEqualTo(strict.labelArray());
    }
}
