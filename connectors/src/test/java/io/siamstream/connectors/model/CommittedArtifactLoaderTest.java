package io.siamstream.connectors.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import io.siamstream.augment.ViewPolicies;
import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.connectors.idx.LabeledImages;
import io.siamstream.eval.EncoderVersion;
import io.siamstream.eval.FrozenEncoder;
import io.siamstream.eval.ImageEmbedder;
import io.siamstream.eval.ModelVersionRejected;
import io.siamstream.record.ModelUpdate;
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerConfig;
import io.siamstream.train.LearnerStateCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A committed version read back for embedding: the vectors are the encoder's; a missing, truncated, tampered or
 * mismatched artifact is told apart by its reason (only a missing one is worth looking for again).
 */
class CommittedArtifactLoaderTest {

    private static final float MEAN = ViewPolicies.FASHION_MNIST_MEAN[0];
    private static final float STD = ViewPolicies.FASHION_MNIST_STD[0];

    /** Writes version 7 of a fresh ConvNet learner into {@code dir/7}; returns its announcement. */
    private static ModelUpdate write(Path dir, LearnerConfig config) throws Exception {
        ArtifactSpec spec = new ArtifactSpec(config, new float[] {MEAN}, new float[] {STD}, dir.toString(), false, 1, 0, 1);
        ModelUpdate update = new ModelUpdate();
        update.version = 7;
        update.step = 7;
        update.fingerprint = config.modelFingerprint();
        try (Learner learner = Learner.create(config, Device.cpu())) {
            update.encoderState = LearnerStateCodec.encode(learner.encoderSnapshot());
        }
        ModelArtifacts.Files files = ModelArtifacts.of(spec, update);
        Path version = dir.resolve("7");
        Files.createDirectories(version);
        Files.write(version.resolve(ModelArtifacts.ENCODER_FILE), files.encoder());
        Files.write(version.resolve(ModelArtifacts.MODEL_JSON), files.json().toBytes());
        ModelUpdate announcement = update.withoutWeights();
        announcement.uri = version.toString();
        announcement.sha256 = files.json().weights.sha256;
        return announcement;
    }

    private static CommittedArtifactLoader loader() {
        return new CommittedArtifactLoader(CommittedArtifactLoader.localFiles());
    }

    @Test
    void aCommittedVersionEmbedsAsItsEncoder(@TempDir Path tmp) throws Exception {
        LearnerConfig config = LearnerConfig.smallConvNet(4, 10, 3);
        ModelUpdate announcement = write(tmp, config);
        EncoderVersion version = loader().load(announcement);
        assertThat(version.version()).isEqualTo(7);
        assertThat(version.size()).isEqualTo(28);
        assertThat(version.mean()).containsExactly(MEAN);
        LabeledImages test = FashionMnist.sample(FashionMnist.Split.TEST);
        List<byte[]> images = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            images.add(Arrays.copyOfRange(test.pixels(), i * 784, (i + 1) * 784));
        }
        float[][] got;
        try (ImageEmbedder embedder = new ImageEmbedder(version, Device.cpu())) {
            got = embedder.embed(images);
        }
        float[] want;
        try (Learner learner = Learner.create(config, Device.cpu());
             FrozenEncoder frozen = new FrozenEncoder(config.encoder(), 28, learner.encoderSnapshot(), Device.cpu())) {
            want = frozen.embed(Arrays.copyOf(test.normalized(MEAN, STD), 5 * 784), 5);
        }
        for (int i = 0; i < 5; i++) {
            assertThat(got[i]).isEqualTo(Arrays.copyOfRange(want, i * got[i].length, (i + 1) * got[i].length));
        }
    }

    @Test
    void eachDefectHasItsReason(@TempDir Path tmp) throws Exception {
        ModelUpdate announcement = write(tmp, LearnerConfig.smallConvNet(4, 10, 3));
        Path weights = tmp.resolve("7").resolve(ModelArtifacts.ENCODER_FILE);
        byte[] good = Files.readAllBytes(weights);

        ModelUpdate elsewhere = announcement.withoutWeights();
        elsewhere.uri = tmp.resolve("8").toString();
        elsewhere.sha256 = announcement.sha256;
        assertThatThrownBy(() -> loader().load(elsewhere)).isInstanceOfSatisfying(ModelVersionRejected.class,
                e -> assertThat(e.reason() + " " + e.retryable()).isEqualTo(ModelVersionRejected.MISSING + " true"));

        Files.write(weights, Arrays.copyOf(good, good.length - 100));
        assertThatThrownBy(() -> loader().load(announcement)).isInstanceOfSatisfying(ModelVersionRejected.class,
                e -> assertThat(e.reason() + " " + e.retryable()).isEqualTo(ModelVersionRejected.UNREADABLE + " false"));

        byte[] flipped = good.clone();
        flipped[flipped.length - 1] ^= 1;
        Files.write(weights, flipped);
        assertThatThrownBy(() -> loader().load(announcement)).isInstanceOfSatisfying(ModelVersionRejected.class,
                e -> assertThat(e.reason()).isEqualTo(ModelVersionRejected.CHECKSUM));

        // another architecture in model.json than the weights were made for
        Files.write(weights, good);
        Path json = tmp.resolve("7").resolve(ModelArtifacts.MODEL_JSON);
        String text = Files.readString(json);
        Files.writeString(json, text.replace("\"kind\": \"convnet\"", "\"kind\": \"resnet18_cifar\""));
        assertThat(Files.readString(json)).contains("resnet18_cifar");
        assertThatThrownBy(() -> loader().load(announcement)).isInstanceOfSatisfying(ModelVersionRejected.class,
                e -> assertThat(e.reason()).isEqualTo(ModelVersionRejected.ARCHITECTURE));

        Files.write(json, "{ not json".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> loader().load(announcement)).isInstanceOfSatisfying(ModelVersionRejected.class,
                e -> assertThat(e.reason()).isEqualTo(ModelVersionRejected.UNREADABLE));
    }
}
