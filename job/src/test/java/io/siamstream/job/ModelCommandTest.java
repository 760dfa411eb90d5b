package io.siamstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.augment.ViewPolicies;
import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.connectors.idx.LabeledImages;
import io.siamstream.connectors.model.ArtifactSpec;
import io.siamstream.connectors.model.ModelArtifacts;
import io.siamstream.connectors.model.Npy;
import io.siamstream.eval.FrozenEncoder;
import io.siamstream.record.ModelUpdate;
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerConfig;
import io.siamstream.train.LearnerStateCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCommandTest {

    @Test
    void embedWritesFeaturesAndLabelsAsNpy(@TempDir Path tmp) throws Exception {
        float mean = ViewPolicies.FASHION_MNIST_MEAN[0];
        float std = ViewPolicies.FASHION_MNIST_STD[0];
        LearnerConfig config = LearnerConfig.smallConvNet(16, 100, 3);
        ArtifactSpec spec = new ArtifactSpec(config, new float[] {mean}, new float[] {std}, tmp.toString(), false, 1, 0, 1);
        LabeledImages test = FashionMnist.sample(FashionMnist.Split.TEST);
        float[] images = Arrays.copyOf(test.normalized(mean, std), 100 * 784);
        float[] expected;
        ModelUpdate update = new ModelUpdate();
        try (Learner learner = Learner.create(config)) {
            var snapshot = learner.encoderSnapshot();
            update.encoderState = LearnerStateCodec.encode(snapshot);
            update.fingerprint = config.modelFingerprint();
            try (FrozenEncoder encoder = new FrozenEncoder(config.encoder(), 28, snapshot)) {
                expected = encoder.embed(images, 100);
            }
        }
        ModelArtifacts.Files files = ModelArtifacts.of(spec, update);
        Path version = Files.createDirectories(tmp.resolve("models/0"));
        Files.write(version.resolve(ModelArtifacts.ENCODER_FILE), files.encoder());
        Files.write(version.resolve(ModelArtifacts.MODEL_JSON), files.json().toBytes());
        Files.writeString(tmp.resolve("models/LATEST"), "0\n");

        Path out = tmp.resolve("emb/test.npy");
        ModelCommand.main(new String[] {"embed", "--model", tmp.resolve("models").toString(), "--data", "bundled",
                "--split", "test", "--out", out.toString(), "--limit", "100"});
        Npy.Array features = Npy.read(Files.readAllBytes(out));
        assertThat(features.shape()).containsExactly(100, 256);
        assertThat(Arrays.equals(features.floats(), expected)).as("the same features as FrozenEncoder").isTrue();
        Npy.Array labels = Npy.read(Files.readAllBytes(tmp.resolve("emb/test.labels.npy")));
        assertThat(labels.shape()).containsExactly(100);
        for (int i = 0; i < 100; i++) {
            assertThat(labels.longs()[i]).isEqualTo(test.label(i));
        }
        assertThatThrownBy(() -> ModelCommand.main(new String[] {"embed", "--model", tmp.toString(), "--out", "x.npy"}))
                .hasMessageContaining("LATEST");
    }

    @Test
    void exportOptionsFailNamingTheOption() {
        Configuration conf = new Configuration();
        conf.set(SiamstreamOptions.OUTPUT, "out/x");
        JobSettings settings = JobSettings.from(conf);
        assertThat(ExportSettings.from(conf, settings).spec().models()).isEqualTo("out/x/models");
        Configuration bad = conf.clone();
        bad.set(SiamstreamOptions.EXPORT_KEEP_LAST, 0);
        assertThatThrownBy(() -> ExportSettings.from(bad, settings)).hasMessageContaining("siamstream.export.keep-last");
        Configuration bad2 = conf.clone();
        bad2.set(SiamstreamOptions.EXPORT_KEEP_EVERY, -1);
        assertThatThrownBy(() -> ExportSettings.from(bad2, settings)).hasMessageContaining("siamstream.export.keep-every");
        Configuration bad3 = conf.clone();
        bad3.set(SiamstreamOptions.EXPORT_MODELS, "nosuchscheme://bucket/models");
        assertThatThrownBy(() -> ExportSettings.from(bad3, settings)).hasMessageContaining("siamstream.export.models");
        Configuration noFinal = conf.clone();
        noFinal.set(org.apache.flink.configuration.CheckpointingOptions.ENABLE_CHECKPOINTS_AFTER_TASKS_FINISH, false);
        assertThatThrownBy(() -> ExportSettings.from(noFinal, settings))
                .hasMessageContaining("execution.checkpointing.checkpoints-after-tasks-finish");
        Configuration off = conf.clone();
        off.set(SiamstreamOptions.EXPORT_MODELS, "none");
        assertThat(ExportSettings.from(off, settings)).isNull();
    }

    @Test
    void extractNeedsItsPathsAndTakesOnlyTheJobsOptions(@TempDir Path tmp) {
        assertThatThrownBy(() -> ModelCommand.main(new String[] {"extract", "--to", tmp.toString()}))
                .hasMessageContaining("--from and --to are required");
        assertThatThrownBy(() -> ModelCommand.main(new String[] {"extract", "--from", "x", "--to", "y", "--seed", "1"}))
                .hasMessageContaining("unknown option --seed");
        assertThatThrownBy(() -> ModelCommand.main(new String[] {"fetch"})).hasMessageContaining("model extract --from");
    }

    @Test
    void extractFromWhatIsNoSnapshotNamesTheCommittedVersions(@TempDir Path tmp) throws Exception {
        Path models = tmp.resolve("models");
        for (String v : new String[] {"5", "10"}) {
            Files.createDirectories(models.resolve(v));
        }
        Files.createDirectories(models.resolve(".staging/15-x"));
        Files.writeString(models.resolve(ModelArtifacts.LATEST), "10\n");
        assertThatThrownBy(() -> ModelCommand.extract(java.util.Map.of("from", tmp.resolve("nothing").toString(),
                        "to", tmp.resolve("out").toString(), "siamstream.output", tmp.toString())))
                .isInstanceOf(ModelExtract.UnreadableSnapshot.class)
                .hasMessageContaining("cannot read the trainer's state from " + tmp.resolve("nothing"))
                .hasMessageContaining(models + " holds versions 5, 10; LATEST = 10");
        assertThatThrownBy(() -> ModelCommand.extract(java.util.Map.of("from", tmp.resolve("nothing").toString(),
                        "to", tmp.resolve("out").toString(), "siamstream.export.models", "none")))
                .hasMessageContaining("model export is off");
    }
}
