package io.siamstream.servable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.augment.ViewPolicies;
import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.connectors.idx.LabeledImages;
import io.siamstream.connectors.model.ArtifactSpec;
import io.siamstream.connectors.model.ModelArtifacts;
import io.siamstream.eval.FrozenEncoder;
import io.siamstream.record.ModelUpdate;
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerConfig;
import io.siamstream.train.LearnerStateCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.ml.linalg.DenseVector;
import org.apache.flink.ml.servable.api.DataFrame;
import org.apache.flink.ml.servable.api.Row;
import org.apache.flink.ml.servable.types.DataType;
import org.apache.flink.ml.servable.types.DataTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A version directory as the job exports it (ModelArtifacts.of: the sink writes these bytes) loads into the
 * servable, which embeds as the frozen encoder of that version does, bit for bit.
 */
class EncoderServableTest {

    private static final int N = 64;

    @Test
    void embedsAsTheFrozenEncoderOfTheExportedVersion(@TempDir Path tmp) throws Exception {
        float mean = ViewPolicies.FASHION_MNIST_MEAN[0];
        float std = ViewPolicies.FASHION_MNIST_STD[0];
        LearnerConfig config = LearnerConfig.smallConvNet(16, 100, 7);
        LabeledImages test = FashionMnist.sample(FashionMnist.Split.TEST);
        float[] expected;
        ModelUpdate update = new ModelUpdate();
        update.version = 3;
        try (Learner learner = Learner.create(config)) {
            var snapshot = learner.encoderSnapshot();
            update.encoderState = LearnerStateCodec.encode(snapshot);
            update.fingerprint = config.modelFingerprint();
            try (FrozenEncoder encoder = new FrozenEncoder(config.encoder(), 28, snapshot)) {
                expected = encoder.embed(Arrays.copyOf(test.normalized(mean, std), N * 784), N);
            }
        }
        ArtifactSpec spec = new ArtifactSpec(config, new float[] {mean}, new float[] {std}, tmp.toString(), false, 1, 0, 1);
        ModelArtifacts.Files files = ModelArtifacts.of(spec, update);
        Path version = Files.createDirectories(tmp.resolve("models/3"));
        Files.write(version.resolve(ModelArtifacts.ENCODER_FILE), files.encoder());
        Files.write(version.resolve(ModelArtifacts.MODEL_JSON), files.json().toBytes());
        Files.writeString(tmp.resolve("models/" + ModelArtifacts.LATEST), "3\n");

        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            rows.add(new Row(new ArrayList<>(List.of((long) i, Arrays.copyOfRange(test.pixels(), i * 784, (i + 1) * 784)))));
        }
        List<DataType> types = List.of(DataTypes.LONG, DataTypes.BYTE_STRING);
        try (EncoderServable servable = EncoderServable.load(tmp.resolve("models").toString())) {
            assertThat(servable.version()).isEqualTo(3);
            assertThat(servable.featureDim()).isEqualTo(256);
            DataFrame out = servable.transform(new DataFrame(new ArrayList<>(List.of("id", "image")),
                    new ArrayList<>(types), rows));
            assertThat(out.getColumnNames()).containsExactly("id", "image", "embedding", "model_version");
            int e = out.getIndex("embedding");
            int v = out.getIndex("model_version");
            for (int i = 0; i < N; i++) {
                Row row = out.collect().get(i);
                assertThat((Long) row.get(v)).isEqualTo(3L);
                double[] got = ((DenseVector) row.get(e)).values;
                assertThat(got).hasSize(256);
                for (int j = 0; j < 256; j++) {
                    assertThat((float) got[j]).as("row %d feature %d", i, j).isEqualTo(expected[i * 256 + j]);
                }
            }
        }
        // the version directory itself loads too; a torn weights file does not
        try (EncoderServable servable = EncoderServable.load(version.toString())) {
            assertThat(servable.version()).isEqualTo(3);
        }
        byte[] torn = files.encoder().clone();
        torn[torn.length - 1] ^= 1;
        Files.write(version.resolve(ModelArtifacts.ENCODER_FILE), torn);
        assertThatThrownBy(() -> EncoderServable.load(version.toString())).hasMessageContaining("sha256");
    }

    @Test
    void aMissingVersionOrModelFailsSayingWhatIsMissing() {
        assertThatThrownBy(() -> EncoderServable.load("/nonexistent/models"))
                .hasMessageContaining("LATEST");
        assertThatThrownBy(() -> new EncoderServable().transform(new DataFrame(new ArrayList<>(), new ArrayList<>(),
                new ArrayList<>()))).hasMessageContaining("no model loaded");
    }
}
