package io.siamstream.connectors.cifar;

import static io.siamstream.connectors.TestFiles.cifarBatch;
import static io.siamstream.connectors.TestFiles.pixel;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.connectors.TestFiles;
import io.siamstream.connectors.dataset.ImageSet;
import io.siamstream.connectors.dataset.Reject;
import io.siamstream.connectors.replay.DatasetEvaluation;
import io.siamstream.connectors.replay.ReplayDataset;
import io.siamstream.eval.EvaluationSet;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CIFAR-10 binary batches, written by the test. */
class Cifar10Test {

    @Test
    void recordsAreChannelMajorImagesWithTheirLabels() {
        ImageSet set = Cifar10.readBatch("b.bin", new ByteArrayInputStream(cifarBatch(0, 3, 0, 9)));
        assertThat(set.count()).isEqualTo(3);
        assertThat(set.channels()).isEqualTo(3);
        assertThat(set.height()).isEqualTo(32);
        assertThat(set.width()).isEqualTo(32);
        assertThat(set.labels()).containsExactly(3, 0, 9);
        assertThat(set.rejects()).isEmpty();
        byte[] second = set.image(1);
        for (int i : new int[] {0, 1023, 1024, 2047, 2048, 3071}) { // red, green and blue planes as stored
            assertThat(second[i]).isEqualTo(pixel(1, i));
        }
    }

    @Test
    void aPartialLastRecordAndUnknownLabelsAreRejected() {
        byte[] batch = cifarBatch(0, 1, 12, 2, 3);
        byte[] cut = Arrays.copyOf(batch, batch.length - 1000);
        ImageSet set = Cifar10.readBatch("b.bin", new ByteArrayInputStream(cut));
        assertThat(set.labels()).containsExactly(1, 2);
        assertThat(set.image(1)[7]).isEqualTo(pixel(2, 7));
        assertThat(set.rejects()).extracting(Reject::reason).containsExactly("unknown-label", "truncated");
        assertThat(set.rejects().get(0).detail()).contains("b.bin", "record 1 has label 12");
        assertThat(set.rejects().get(1).detail()).contains("b.bin", "partial record (2073 of 3073 bytes)",
                "after 3 complete records");
        ImageSet empty = Cifar10.readBatch("e.bin", new ByteArrayInputStream(new byte[0]));
        assertThat(empty.rejects()).extracting(Reject::reason).containsExactly("truncated");
    }

    @Test
    void splitsReadTheirBatchFilesInOrder(@TempDir Path dir) throws IOException {
        Path folder = dir.resolve(Cifar10.ARCHIVE_FOLDER);
        TestFiles.bytes(folder.resolve("data_batch_1.bin"), cifarBatch(0, 0, 1));
        TestFiles.bytes(folder.resolve("data_batch_2.bin"), cifarBatch(2, 2, 3, 4));
        TestFiles.bytes(folder.resolve("test_batch.bin"), cifarBatch(5, 5, 6));
        // the parent of the extracted folder works as well as the folder
        for (Path d : new Path[] {dir, folder}) {
            ImageSet train = ReplayDataset.cifar10(d, Cifar10.Split.TRAIN).load();
            assertThat(train.labels()).containsExactly(0, 1, 2, 3, 4);
            assertThat(train.image(4)[100]).isEqualTo(pixel(4, 100));
            assertThat(Cifar10.read(d, Cifar10.Split.TEST).labels()).containsExactly(5, 6);
        }
        assertThatThrownBy(() -> Cifar10.read(dir.resolve("nothing"), Cifar10.Split.TRAIN))
                .hasMessageContaining("no CIFAR-10 TRAIN batches").hasMessageContaining("data_batch_1.bin");

        EvaluationSet eval = DatasetEvaluation.splits(ReplayDataset.cifar10(dir, Cifar10.Split.TRAIN),
                ReplayDataset.cifar10(dir, Cifar10.Split.TEST), Cifar10.MEAN, Cifar10.STD, 10).get();
        assertThat(eval.bankLabels()).containsExactly(0, 1, 2, 3, 4);
        assertThat(eval.queryLabels()).containsExactly(5, 6);
        assertThat(eval.queries()).hasSize(2 * 3072);
        // the green plane is normalised with the green statistics
        float g = ((pixel(5, 1024) & 0xff) / 255f - Cifar10.MEAN[1]) / Cifar10.STD[1];
        assertThat(eval.queries()[1024]).isEqualTo(g);
    }
}
