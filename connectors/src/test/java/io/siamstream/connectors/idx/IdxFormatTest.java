package io.siamstream.connectors.idx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class IdxFormatTest {

    private static byte[] idx(int magic, int... dimsThenBytes) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(magic);
        for (int v : dimsThenBytes) {
            out.writeInt(v);
        }
        return bytes.toByteArray();
    }

    @Test
    void bundledSampleIsClassBalanced() {
        LabeledImages train = FashionMnist.sample(FashionMnist.Split.TRAIN);
        LabeledImages test = FashionMnist.sample(FashionMnist.Split.TEST);
        assertThat(train.count()).isEqualTo(4000);
        assertThat(test.count()).isEqualTo(1000);
        assertThat(train.rows()).isEqualTo(28);
        int[] perClass = new int[10];
        for (int label : train.labelArray()) {
            perClass[label]++;
        }
        assertThat(perClass).containsOnly(400);
    }

    @Test
    void fullSetIsReadWhereInstalled() throws IOException {
        assumeTrue(FashionMnist.fullSetInstalled(), "dataset-fashion-mnist is not installed");
        LabeledImages train = FashionMnist.read(FashionMnist.DEBIAN_DIRECTORY, FashionMnist.Split.TRAIN);
        assertThat(train.count()).isEqualTo(60000);
        // the sample is the first 400 images of each class in file order: its first image is the set's first
        assertThat(FashionMnist.sample(FashionMnist.Split.TRAIN).imageAsFloats(0)).containsExactly(train.imageAsFloats(0));
    }

    @Test
    void wrongMagicIsReported() throws IOException {
        byte[] bad = idx(0x00000801, 1, 2, 2, 0);
        assertThatThrownBy(() -> IdxFormat.read(new ByteArrayInputStream(bad), null))
                .isInstanceOf(IdxFormat.IdxFormatException.class).hasMessageContaining("wrong magic 0x00000801");
    }

    @Test
    void truncatedDataIsReported() throws IOException {
        byte[] header = idx(IdxFormat.IMAGES_MAGIC, 10, 28, 28);
        assertThatThrownBy(() -> IdxFormat.read(new ByteArrayInputStream(header), null))
                .hasMessageContaining("truncated IDX file: image data (10 images of 28x28) ends early");
        byte[] shortHeader = java.util.Arrays.copyOf(header, 9);
        assertThatThrownBy(() -> IdxFormat.read(new ByteArrayInputStream(shortHeader), null))
                .hasMessageContaining("truncated IDX header");
    }

    @Test
    void implausibleDimensionsAreReported() throws IOException {
        byte[] huge = idx(IdxFormat.IMAGES_MAGIC, 1, 100000, 28);
        assertThatThrownBy(() -> IdxFormat.read(new ByteArrayInputStream(huge), null))
                .hasMessageContaining("implausible IDX dimensions 1 x 100000 x 28");
    }

    @Test
    void labelCountMustMatch() throws IOException {
        byte[] images = idx(IdxFormat.IMAGES_MAGIC, 1, 1, 1);
        byte[] imagesWithPixel = java.util.Arrays.copyOf(images, images.length + 1);
        byte[] labels = idx(IdxFormat.LABELS_MAGIC, 2);
        assertThatThrownBy(() -> IdxFormat.read(new ByteArrayInputStream(imagesWithPixel), new ByteArrayInputStream(labels)))
                .hasMessageContaining("2 labels for 1 images");
    }
}
