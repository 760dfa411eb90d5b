package io.siamstream.ml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.connectors.idx.LabeledImages;
import io.siamstream.connectors.model.ArtifactSpec;
import io.siamstream.connectors.model.ModelArtifacts;
import io.siamstream.connectors.model.Npy;
import io.siamstream.eval.FrozenEncoder;
import io.siamstream.job.JobSettings;
import io.siamstream.job.ModelCommand;
import io.siamstream.job.SiamstreamOptions;
import io.siamstream.record.ModelUpdate;
import io.siamstream.servable.EncoderServable;
import io.siamstream.train.LearnerStateCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.ml.linalg.DenseVector;
import org.apache.flink.ml.servable.api.DataFrame;
import org.apache.flink.ml.servable.types.DataTypes;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Flink ML API over the training dataflow on a MiniCluster: fit() trains on a bounded image table (the bundled
 * Fashion-MNIST sample, ConvNet), its model data holds the published versions with increasing step, transform()
 * embeds each image as the frozen encoder of the version it names, and that version exported as an artifact embeds
 * the same through the servable and through {@code model embed}.
 */
class SiamstreamEstimatorTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final int TRAIN = 1024;
    private static final int BATCH = 64;
    private static final int PUBLISH_EVERY = 5;
    private static final int EMBED = 128;
    private static final int PIXELS = 28 * 28;

    private static final RowTypeInfo IMAGES = new RowTypeInfo(
            new TypeInformation<?>[] {Types.LONG, Types.LONG, Types.PRIMITIVE_ARRAY(Types.BYTE), Types.INT},
            new String[] {"id", "seq", "image", "label"});

    /** The first n images of a split of the bundled sample as an image table (id = seq = position). */
    static Table images(StreamExecutionEnvironment env, StreamTableEnvironment tEnv, FashionMnist.Split split, int n) {
        LabeledImages sample = FashionMnist.sample(split);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rows.add(Row.of((long) i, (long) i, Arrays.copyOfRange(sample.pixels(), i * PIXELS, (i + 1) * PIXELS),
                    sample.label(i)));
        }
        return tEnv.fromDataStream(env.fromData(rows, IMAGES).setParallelism(1));
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void fitTrainsVersionsAndTransformEmbedsAsTheirFrozenEncoders(@TempDir Path tmp) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        StreamTableEnvironment tEnv = StreamTableEnvironment.create(env);

        SiamstreamEstimator estimator = new SiamstreamEstimator()
                .set(SiamstreamParams.ENCODER, "convnet")
                .set(SiamstreamParams.BATCH_SIZE, BATCH)
                .set(SiamstreamParams.PUBLISH_EVERY, PUBLISH_EVERY)
                .set(SiamstreamParams.SCHEDULE, "cosine")
                .set(SiamstreamParams.SCHEDULE_STEPS, (long) TRAIN / BATCH)
                .set(SiamstreamParams.SEED, 11L);
        EncoderModel model = estimator.fit(images(env, tEnv, FashionMnist.Split.TRAIN, TRAIN));
        assertThat(model.get(SiamstreamParams.BATCH_SIZE)).as("the model carries the estimator's params").isEqualTo(BATCH);
        Table embedded = model.transform(images(env, tEnv, FashionMnist.Split.TEST, EMBED))[0];
        assertThat(embedded.getResolvedSchema().getColumnNames())
                .containsExactly("id", "seq", "image", "label", "embedding", "model_version");

        List<Row> versions = new ArrayList<>();
        List<Row> embeddings = new ArrayList<>();
        // one job for both results; each collect sink holds back its task until its rows are fetched, so both are
        // drained at once
        try (CloseableIterator<Row> v = tEnv.toDataStream(model.getModelData()[0]).collectAsync();
             CloseableIterator<Row> e = tEnv.toDataStream(embedded).collectAsync()) {
            env.executeAsync("fit and transform");
            CompletableFuture<Void> drained = CompletableFuture.runAsync(() -> e.forEachRemaining(embeddings::add));
            v.forEachRemaining(versions::add);
            drained.get(5, TimeUnit.MINUTES);
        }

        // the versions: every publish-every steps and the last step of the bounded input, step increasing
        Map<Long, ModelUpdate> byVersion = new TreeMap<>();
        long previous = 0;
        for (Row row : versions) {
            ModelUpdate u = ModelData.fromRow(row);
            assertThat(u.step).as("steps increase").isGreaterThan(previous).isEqualTo(u.version);
            assertThat(u.loss).isFinite();
            previous = u.step;
            byVersion.put(u.version, u);
        }
        long steps = TRAIN / BATCH;
        assertThat(byVersion.keySet()).containsExactly(5L, 10L, 15L, steps);

        // each embedding is what the frozen encoder of its version computes
        JobSettings settings = model.settings();
        LabeledImages test = FashionMnist.sample(FashionMnist.Split.TEST);
        float[] normalized = test.normalized(settings.mean()[0], settings.std()[0]);
        assertThat(embeddings).hasSize(EMBED);
        Map<Long, float[]> expected = new TreeMap<>();
        for (Long version : byVersion.keySet()) {
            try (FrozenEncoder encoder = new FrozenEncoder(settings.learner().encoder(), 28,
                    LearnerStateCodec.decode(byVersion.get(version).encoderState))) {
                expected.put(version, encoder.embed(Arrays.copyOf(normalized, EMBED * PIXELS), EMBED));
            }
        }
        for (Row row : embeddings) {
            long version = row.<Long>getFieldAs("model_version");
            int id = (int) (long) row.<Long>getFieldAs("id");
            double[] got = row.<DenseVector>getFieldAs("embedding").values;
            assertThat(byVersion).as("a published version").containsKey(version);
            assertThat(got).hasSize(256);
            float[] want = Arrays.copyOfRange(expected.get(version), id * 256, (id + 1) * 256);
            for (int j = 0; j < 256; j++) {
                assertThat((float) got[j]).as("image %d feature %d, version %d", id, j, version).isEqualTo(want[j]);
            }
        }

        // the last version exported as the job exports it: the servable and model embed embed as the frozen encoder
        ModelUpdate last = byVersion.get(steps);
        ArtifactSpec spec = new ArtifactSpec(settings.learner(), settings.mean(), settings.std(), tmp.toString(), false,
                1, 0, PUBLISH_EVERY);
        ModelArtifacts.Files files = ModelArtifacts.of(spec, last);
        Path dir = Files.createDirectories(tmp.resolve("models/" + steps));
        Files.write(dir.resolve(ModelArtifacts.ENCODER_FILE), files.encoder());
        Files.write(dir.resolve(ModelArtifacts.MODEL_JSON), files.json().toBytes());
        List<org.apache.flink.ml.servable.api.Row> rows = new ArrayList<>();
        for (int i = 0; i < EMBED; i++) {
            rows.add(new org.apache.flink.ml.servable.api.Row(new ArrayList<>(List.of(
                    Arrays.copyOfRange(test.pixels(), i * PIXELS, (i + 1) * PIXELS)))));
        }
        float[] served = new float[EMBED * 256];
        try (EncoderServable servable = EncoderServable.load(dir.toString())) {
            DataFrame out = servable.transform(new DataFrame(new ArrayList<>(List.of("image")),
                    new ArrayList<>(List.of(DataTypes.BYTE_STRING)), rows));
            for (int i = 0; i < EMBED; i++) {
                org.apache.flink.ml.servable.api.Row row = out.collect().get(i);
                assertThat((Long) row.get(out.getIndex("model_version"))).isEqualTo(steps);
                double[] v = ((DenseVector) row.get(out.getIndex("embedding"))).values;
                for (int j = 0; j < 256; j++) {
                    served[i * 256 + j] = (float) v[j];
                }
            }
        }
        assertThat(Arrays.equals(served, expected.get(steps))).as("the servable embeds as the frozen encoder").isTrue();
        Path npy = tmp.resolve("embed/test.npy");
        ModelCommand.embed(dir.toString(), "bundled", "test", npy, EMBED);
        assertThat(Arrays.equals(Npy.read(Files.readAllBytes(npy)).floats(), served))
                .as("model embed and the servable agree").isTrue();
    }

    @Test
    void aBadParamFailsNamingItAndTheAllowedValues() {
        SiamstreamEstimator estimator = new SiamstreamEstimator();
        assertThatThrownBy(() -> estimator.set(SiamstreamParams.METHOD, "simsam"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("siamstream.method").hasMessageContaining("'simsam'")
                .hasMessageContaining("simsiam, byol, simclr, moco");
        assertThatThrownBy(() -> estimator.set(SiamstreamParams.BATCH_SIZE, 0))
                .hasMessageContaining("siamstream.train.batch-size").hasMessageContaining("> 0");
        assertThatThrownBy(() -> estimator.set(SiamstreamParams.DEVICE, "tpu"))
                .hasMessageContaining("siamstream.train.device").hasMessageContaining("auto, cpu, gpu, gpu:N");
        // what only the whole set can tell fails where the job's options do, naming the option
        estimator.set(SiamstreamParams.CHANNELS, 3);
        assertThatThrownBy(estimator::settings).hasMessageContaining("siamstream.source.channels");
    }

    @Test
    void anImageTableWithoutTheImageColumnFailsNamingIt() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        StreamTableEnvironment tEnv = StreamTableEnvironment.create(env);
        Table images = images(env, tEnv, FashionMnist.Split.TEST, 4);
        assertThatThrownBy(() -> new SiamstreamEstimator().setImageCol("pixels").fit(images))
                .hasMessageContaining("'pixels'").hasMessageContaining("[id, seq, image, label]");
        assertThatThrownBy(() -> new SiamstreamEstimator().set(SiamstreamEstimator.ID_COL, "image").fit(images))
                .as("bytes are no id").hasMessageContaining("'image'").hasMessageContaining("BIGINT");
    }

    @Test
    void paramsAreTheJobsOptionsWithTheirDefaults(@TempDir Path tmp) throws Exception {
        SiamstreamEstimator estimator = new SiamstreamEstimator();
        SiamstreamParams.OPTIONS.forEach((param, option) -> {
            assertThat(param.name).isEqualTo(option.key());
            assertThat(estimator.get(param)).as(param.name)
                    .isEqualTo(option.hasDefaultValue() ? option.defaultValue() : null);
        });
        assertThat(estimator.settings()).usingRecursiveComparison()
                .isEqualTo(JobSettings.from(new org.apache.flink.configuration.Configuration()));
        estimator.set(SiamstreamParams.METHOD, "byol").set(SiamstreamParams.BATCH_SIZE, 32)
                .set(SiamstreamParams.MEAN, new Float[] {0.5f});
        assertThat(estimator.toConfiguration().get(SiamstreamOptions.BATCH_SIZE)).isEqualTo(32);
        assertThat(estimator.toConfiguration().get(SiamstreamOptions.MEAN)).containsExactly(0.5f);
        estimator.save(tmp.resolve("estimator").toString());
        SiamstreamEstimator loaded = SiamstreamEstimator.load(null, tmp.resolve("estimator").toString());
        assertThat(loaded.get(SiamstreamParams.METHOD)).isEqualTo("byol");
        assertThat(loaded.get(SiamstreamParams.BATCH_SIZE)).isEqualTo(32);
        assertThat(loaded.get(SiamstreamParams.MEAN)).containsExactly(0.5f);
    }
}
