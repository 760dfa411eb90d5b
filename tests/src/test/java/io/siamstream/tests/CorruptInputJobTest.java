package io.siamstream.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.connectors.idx.IdxFormat;
import io.siamstream.connectors.idx.LabeledImages;
import io.siamstream.connectors.replay.DatasetReplaySource;
import io.siamstream.connectors.replay.ReplayDataset;
import io.siamstream.job.JobSettings;
import io.siamstream.job.JobSinks;
import io.siamstream.job.SiamstreamJob;
import io.siamstream.job.SiamstreamOptions;
import io.siamstream.record.DeadLetter;
import io.siamstream.record.EvalReport;
import io.siamstream.record.ImageRecord;
import io.siamstream.record.ModelUpdate;
import io.siamstream.record.StepMetrics;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Corrupt dataset files on a MiniCluster: a truncated IDX file with an unknown label, an IDX file with a wrong magic,
 * one with the wrong image size, and an image folder with an undecodable PNG, a cut PNG, a TIFF with a NaN sample and
 * an image of the wrong size. Every defect reaches the dead letter once, with its reason and the file it is in; the
 * job trains on the good images and finishes.
 */
class CorruptInputJobTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    private static final LabeledImages SAMPLE = FashionMnist.sample(FashionMnist.Split.TEST);

    /** IDX images (gzipped) whose header says {@code declared} images of rows x cols, holding {@code bytes} pixel bytes. */
    private static void idxImages(Path file, int magic, int declared, int rows, int cols, int bytes) throws IOException {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(raw);
        out.writeInt(magic);
        out.writeInt(declared);
        out.writeInt(rows);
        out.writeInt(cols);
        for (int i = 0; i < bytes; i++) {
            out.write(SAMPLE.pixels()[i % SAMPLE.pixels().length]);
        }
        Files.createDirectories(file.getParent());
        try (OutputStream z = new GZIPOutputStream(Files.newOutputStream(file))) {
            z.write(raw.toByteArray());
        }
    }

    private static void idxLabels(Path file, int count, int badIndex) throws IOException {
        try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(file))) {
            out.writeInt(IdxFormat.LABELS_MAGIC);
            out.writeInt(count);
            for (int i = 0; i < count; i++) {
                out.write(i == badIndex ? 200 : SAMPLE.label(i));
            }
        }
    }

    private static DataStream<ImageRecord> only(StreamExecutionEnvironment env, ReplayDataset dataset, String name) {
        return env.fromSource(new DatasetReplaySource(dataset, 7, 1, 1), WatermarkStrategy.noWatermarks(), name,
                TypeInformation.of(ImageRecord.class)).setParallelism(1);
    }

    @Test
    void corruptFilesGoToTheDeadLetterWithTheirReasonsAndTheJobTrainsOnTheRest(@TempDir Path tmp) throws Exception {
        int image = 28 * 28;
        // the training set: 70 images declared, 64 complete and part of the 65th; image 10 has label 200
        Path train = tmp.resolve("fashion");
        idxImages(train.resolve(FashionMnist.Split.TRAIN.imagesFile()), IdxFormat.IMAGES_MAGIC, 70, 28, 28,
                64 * image + 300);
        idxLabels(train.resolve(FashionMnist.Split.TRAIN.labelsFile()), 70, 10);
        idxImages(train.resolve(FashionMnist.Split.TEST.imagesFile()), IdxFormat.IMAGES_MAGIC, 20, 28, 28, 20 * image);
        idxLabels(train.resolve(FashionMnist.Split.TEST.labelsFile()), 20, -1);
        // a wrong magic, and images of the wrong size
        Path magic = tmp.resolve("magic");
        idxImages(magic.resolve(FashionMnist.Split.TRAIN.imagesFile()), 0x00000804, 4, 28, 28, 4 * image);
        idxLabels(magic.resolve(FashionMnist.Split.TRAIN.labelsFile()), 4, -1);
        Path dims = tmp.resolve("dims");
        idxImages(dims.resolve(FashionMnist.Split.TRAIN.imagesFile()), IdxFormat.IMAGES_MAGIC, 4, 32, 32, 4 * 1024);
        idxLabels(dims.resolve(FashionMnist.Split.TRAIN.labelsFile()), 4, -1);
        // an image folder of nothing but bad files
        Path folder = Files.createDirectories(tmp.resolve("folder/shirts"));
        Files.write(folder.resolve("corrupt.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 1, 2, 3});
        BufferedImage gray = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        ImageIO.write(gray, "png", folder.resolve("whole.png").toFile());
        byte[] png = Files.readAllBytes(folder.resolve("whole.png"));
        Files.delete(folder.resolve("whole.png"));
        Files.write(folder.resolve("cut.png"), Arrays.copyOf(png, png.length / 2));
        ImageIO.write(new BufferedImage(32, 32, BufferedImage.TYPE_BYTE_GRAY), "png", folder.resolve("large.png").toFile());
        ComponentColorModel floats = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_GRAY), false, false,
                Transparency.OPAQUE, DataBuffer.TYPE_FLOAT);
        WritableRaster raster = floats.createCompatibleWritableRaster(28, 28);
        raster.setSample(5, 6, 0, Float.NaN);
        ImageIO.write(new BufferedImage(floats, raster, false, null), "tiff", folder.resolve("nan.tif").toFile());

        Configuration conf = new Configuration();
        conf.set(SiamstreamOptions.FORMAT, "fashion-mnist");
        conf.set(SiamstreamOptions.DATA, train.toString());
        conf.set(SiamstreamOptions.EPOCHS, 1L);
        conf.set(SiamstreamOptions.BATCH_SIZE, 8);
        conf.set(SiamstreamOptions.PUBLISH_EVERY, 1000);
        conf.set(SiamstreamOptions.SCHEDULE_STEPS, 100L);
        conf.set(SiamstreamOptions.DEVICE, "cpu");
        conf.set(SiamstreamOptions.LINEAR_EVERY, 0);
        conf.set(SiamstreamOptions.VIEW1_PARALLELISM, 2);
        conf.set(SiamstreamOptions.OUTPUT, tmp.resolve("out").toString());
        JobSettings settings = JobSettings.from(conf);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.getConfig().disableGenericTypes();
        DataStream<ImageRecord> images = SiamstreamJob.replaySource(env, settings).union(
                only(env, ReplayDataset.fashionMnist(magic, FashionMnist.Split.TRAIN), "wrong magic"),
                only(env, ReplayDataset.fashionMnist(dims, FashionMnist.Split.TRAIN), "wrong size"),
                only(env, ReplayDataset.imageFolder(tmp.resolve("folder"), 1, 28), "image folder"));
        SiamstreamJob.build(settings, images, new JobSinks(TestSinks.collecting("corrupt-steps"),
                TestSinks.collecting("corrupt-reports"), TestSinks.collecting("corrupt-dead"),
                TestSinks.collecting("corrupt-models")));
        env.execute("corrupt input");

        List<DeadLetter> dead = TestSinks.received("corrupt-dead");
        assertThat(dead).allSatisfy(d -> assertThat(d.stage).isEqualTo("source"));
        assertThat(dead).extracting(d -> d.reason).containsExactlyInAnyOrder(
                "truncated", "unknown-label", "bad-magic", "wrong-shape",
                "undecodable", "undecodable", "nan-pixels", "wrong-shape");
        assertThat(dead).extracting(d -> d.detail).anySatisfy(d -> assertThat(d).contains(
                "fashion/train-images-idx3-ubyte.gz", "70 images of 28x28", "after 64 complete images", "6 missing"));
        assertThat(dead).extracting(d -> d.detail).anySatisfy(d -> assertThat(d).contains(
                "train-labels-idx1-ubyte.gz", "image 10 has label 200"));
        assertThat(dead).extracting(d -> d.detail).anySatisfy(d -> assertThat(d).contains(
                "magic/train-images-idx3-ubyte.gz", "wrong magic 0x00000804"));
        assertThat(dead).extracting(d -> d.detail).anySatisfy(d -> assertThat(d).contains(
                "dims/train-images-idx3-ubyte.gz", "images of 32x32, expected 28x28"));
        assertThat(dead).extracting(d -> d.detail).anySatisfy(d -> assertThat(d).contains("corrupt.png"));
        assertThat(dead).extracting(d -> d.detail).anySatisfy(d -> assertThat(d).contains("cut.png"));
        assertThat(dead).extracting(d -> d.detail).anySatisfy(d -> assertThat(d).contains("nan.tif", "NaN"));
        assertThat(dead).extracting(d -> d.detail).anySatisfy(d -> assertThat(d).contains("large.png", "32x32"));

        // 63 good images (64 complete, one with an unknown label) make 7 full batches of 8
        List<StepMetrics> steps = TestSinks.received("corrupt-steps");
        assertThat(steps).extracting(m -> m.step).containsExactlyInAnyOrder(1L, 2L, 3L, 4L, 5L, 6L, 7L);
        assertThat(steps).allSatisfy(m -> assertThat(m.loss).isFinite());
        List<ModelUpdate> models = TestSinks.received("corrupt-models");
        assertThat(models).extracting(u -> u.version).containsExactly(7L);
        // the final encoder is evaluated on the (leniently loaded) evaluation data
        List<EvalReport> reports = TestSinks.received("corrupt-reports");
        assertThat(reports).extracting(r -> r.version).containsExactly(7L);
        assertThat(reports.get(0).knnTop1).isBetween(0.0, 1.0);
    }
}
