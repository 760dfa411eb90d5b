package io.siamstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.augment.ViewPolicies;
import io.siamstream.connectors.replay.DatasetEvaluation;
import io.siamstream.connectors.replay.DatasetFormat;
import io.siamstream.connectors.replay.ReplayDataset;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dataset options: format, shape, statistics and evaluation follow the dataset; bad values name the option. */
class JobSettingsDatasetTest {

    private static Configuration conf(String format, String data) {
        Configuration conf = new Configuration();
        conf.set(SiamstreamOptions.FORMAT, format);
        conf.set(SiamstreamOptions.DATA, data);
        return conf;
    }

    @Test
    void theDefaultIsTheBundledFashionMnistSampleAt1x28x28() {
        JobSettings s = JobSettings.from(new Configuration());
        assertThat(s.format()).isEqualTo(DatasetFormat.FASHION_MNIST);
        assertThat(s.channels()).isEqualTo(1);
        assertThat(s.imageSize()).isEqualTo(28);
        assertThat(s.learner().imageChannels()).isEqualTo(1);
        assertThat(s.dataset()).isEqualTo(ReplayDataset.bundled(io.siamstream.connectors.idx.FashionMnist.Split.TRAIN));
        assertThat(s.policy()).usingRecursiveComparison().isEqualTo(ViewPolicies.fashionMnist());
        assertThat(s.policy().mean()).containsExactly(ViewPolicies.fashionMnist().mean());
        assertThat(s.evaluation()).isNotNull();
    }

    @Test
    void cifar10Is3x32x32WithItsStatisticsAndTheSmallPolicy(@TempDir Path dir) {
        JobSettings s = JobSettings.from(conf("CIFAR10", dir.toString()));
        assertThat(s.format()).isEqualTo(DatasetFormat.CIFAR10);
        assertThat(s.channels()).isEqualTo(3);
        assertThat(s.imageSize()).isEqualTo(32);
        assertThat(s.learner().imageChannels()).isEqualTo(3);
        assertThat(s.learner().imageSize()).isEqualTo(32);
        assertThat(s.learner().encoder().inChannels()).isEqualTo(3);
        assertThat(s.mean()).containsExactly(0.4914f, 0.4822f, 0.4465f);
        assertThat(s.std()).containsExactly(0.2470f, 0.2435f, 0.2616f);
        assertThat(s.policy().name()).isEqualTo("simsiam-small");
        assertThat(s.policy().outputSize()).isEqualTo(32);
        assertThat(s.policy().blurProbability()).isZero();
        assertThat(s.evaluation()).isInstanceOf(DatasetEvaluation.class);
        assertThat(s.dataset().channels()).isEqualTo(3);
    }

    @Test
    void anImageFolderTakesItsShapeFromTheOptionsAndIsEvaluatedWhenLabelled(@TempDir Path root) throws IOException {
        Configuration c = conf("image-folder", root.toString());
        c.set(SiamstreamOptions.CHANNELS, 1);
        c.set(SiamstreamOptions.IMAGE_SIZE, 64);
        c.set(SiamstreamOptions.MEAN, List.of(0.4f));
        c.set(SiamstreamOptions.STD, List.of(0.2f));
        JobSettings gray = JobSettings.from(c);
        assertThat(gray.channels()).isEqualTo(1);
        assertThat(gray.imageSize()).isEqualTo(64);
        assertThat(gray.mean()).containsExactly(0.4f);
        assertThat(gray.policy().name()).isEqualTo("simsiam"); // above 32 px: the recipe with blur
        assertThat(gray.evaluation()).as("no class folders: evaluation off").isNull();

        for (String cls : new String[] {"a", "b"}) {
            Files.createDirectories(root.resolve(cls));
            ImageIO.write(new BufferedImage(64, 64, BufferedImage.TYPE_BYTE_GRAY), "png", root.resolve(cls + "/x.png").toFile());
        }
        assertThat(gray.evaluation()).isInstanceOf(DatasetEvaluation.class);

        JobSettings rgb = JobSettings.from(conf("image-folder", root.toString()));
        assertThat(rgb.channels()).isEqualTo(3);
        assertThat(rgb.imageSize()).isEqualTo(32);
        assertThat(rgb.mean()).containsExactly(ViewPolicies.IMAGENET_MEAN);
    }

    @Test
    void badValuesNameTheOptionAndTheAllowedValues() {
        assertThatThrownBy(() -> JobSettings.from(conf("mnist", "bundled")))
                .hasMessageContaining("siamstream.source.format: 'mnist' is not allowed")
                .hasMessageContaining("fashion-mnist, cifar10, image-folder");
        assertThatThrownBy(() -> JobSettings.from(conf("cifar10", "bundled")))
                .hasMessageContaining("siamstream.data").hasMessageContaining("only fashion-mnist has a bundled sample");
        Configuration channels = conf("fashion-mnist", "bundled");
        channels.set(SiamstreamOptions.CHANNELS, 3);
        assertThatThrownBy(() -> JobSettings.from(channels)).hasMessageContaining("siamstream.source.channels: 3 does not fit");
        Configuration size = conf("cifar10", "/data");
        size.set(SiamstreamOptions.IMAGE_SIZE, 28);
        assertThatThrownBy(() -> JobSettings.from(size)).hasMessageContaining("siamstream.source.image-size: 28");
        Configuration two = conf("image-folder", "/data");
        two.set(SiamstreamOptions.CHANNELS, 2);
        assertThatThrownBy(() -> JobSettings.from(two)).hasMessageContaining("siamstream.source.channels: 2")
                .hasMessageContaining("allowed values: 1, 3");
        Configuration tiny = conf("image-folder", "/data");
        tiny.set(SiamstreamOptions.IMAGE_SIZE, 4);
        assertThatThrownBy(() -> JobSettings.from(tiny)).hasMessageContaining("siamstream.source.image-size: 4");
        Configuration mean = conf("cifar10", "/data");
        mean.set(SiamstreamOptions.MEAN, List.of(0.5f));
        assertThatThrownBy(() -> JobSettings.from(mean)).hasMessageContaining("siamstream.source.mean")
                .hasMessageContaining("allowed: 3");
        Configuration std = conf("fashion-mnist", "bundled");
        std.set(SiamstreamOptions.STD, List.of(0f));
        assertThatThrownBy(() -> JobSettings.from(std)).hasMessageContaining("siamstream.source.std");
    }
}
