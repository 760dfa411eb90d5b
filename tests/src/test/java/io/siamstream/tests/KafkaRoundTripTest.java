package io.siamstream.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.siamstream.augment.Image;
import io.siamstream.augment.ViewPolicies;
import io.siamstream.augment.ViewPolicy;
import io.siamstream.augment.Views;
import io.siamstream.connectors.kafka.ImageBytes;
import io.siamstream.connectors.kafka.KafkaImageDeserializer;
import io.siamstream.connectors.kafka.KafkaImageSource;
import io.siamstream.connectors.kafka.KafkaJsonSink;
import io.siamstream.flink.AugmentationTopology;
import io.siamstream.flink.DeadLetters;
import io.siamstream.record.DeadLetter;
import io.siamstream.record.ImageRecord;
import io.siamstream.record.StepMetrics;
import io.siamstream.record.ViewPair;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.ExecutionCheckpointingOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Kafka in and out of Flink against a real in-process broker (Kafka's KRaft test kit) on a MiniCluster. */
class KafkaRoundTripTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    private static KafkaTestBroker broker;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = KafkaTestBroker.start();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (broker != null) {
            broker.close();
        }
    }

    private static StreamExecutionEnvironment environment(Duration checkpointInterval) {
        Configuration conf = new Configuration();
        if (checkpointInterval != null) {
            conf.set(ExecutionCheckpointingOptions.CHECKPOINTING_INTERVAL, checkpointInterval);
        }
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.getConfig().disableGenericTypes();
        return env;
    }

    private static ProducerRecord<byte[], byte[]> image(String topic, int partition, String key, byte[] value,
                                                        String label) {
        RecordHeaders headers = new RecordHeaders();
        if (label != null) {
            headers.add(KafkaImageDeserializer.LABEL_HEADER, label.getBytes(StandardCharsets.UTF_8));
        }
        return new ProducerRecord<>(topic, partition, key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value, headers);
    }

    @Test
    void imagesFromKafkaBecomeViewPairsAndMalformedRecordsBecomeDeadLettersOnKafka() throws Exception {
        String topic = "images";
        String deadLetterTopic = "dead-letters";
        broker.createTopic(topic, 2);
        broker.createTopic(deadLetterTopic, 1);

        int good = 20;
        Map<Long, byte[]> pixelsById = new HashMap<>();
        Map<Long, Long> seqById = new HashMap<>();
        Random random = new Random(5);
        byte[] png = ImageBytes.png(new byte[28 * 28], 1, 28, 28);
        List<ProducerRecord<byte[], byte[]>> malformed = List.of(
                image(topic, 0, null, png, "1"),
                image(topic, 1, "77", "no image".getBytes(StandardCharsets.UTF_8), "1"),
                image(topic, 0, "77", ImageBytes.png(new byte[28 * 27], 1, 28, 27), "1"),
                image(topic, 1, "77", png, "10"),
                image(topic, 0, "77", Arrays.copyOf(png, png.length - 30), null),
                image(topic, 1, "77", Arrays.copyOf(ImageBytes.raw(new byte[28 * 28], 1, 28, 28), 200), null),
                image(topic, 0, "77", ImageBytes.png(new byte[3 * 28 * 28], 3, 28, 28), null));
        List<String> expectedReasons = List.of(KafkaImageDeserializer.BAD_KEY, DeadLetters.UNDECODABLE,
                DeadLetters.WRONG_SHAPE, DeadLetters.UNKNOWN_LABEL, DeadLetters.UNDECODABLE, DeadLetters.WRONG_SIZE,
                DeadLetters.WRONG_CHANNELS);
        try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
            for (long index = 0; index < good; index++) {
                if (index == good / 2) { // the malformed records in between the good ones, on both partitions
                    for (ProducerRecord<byte[], byte[]> record : malformed) {
                        producer.send(record).get();
                    }
                }
                byte[] pixels = new byte[28 * 28];
                random.nextBytes(pixels);
                long id = 1000 + index;
                pixelsById.put(id, pixels);
                RecordMetadata at = producer.send(image(topic, (int) (index % 2), Long.toString(id),
                        ImageBytes.png(pixels, 1, 28, 28), Long.toString(index % 10))).get();
                seqById.put(id, KafkaImageDeserializer.seq(at.partition(), at.offset()));
            }
        }

        StreamExecutionEnvironment env = environment(null);
        DataStream<ImageRecord> images = env.fromSource(
                KafkaImageSource.builder(broker.bootstrapServers(), topic, "siamstream-test", 1, 28, 28)
                        .classes(10)
                        .bounded(OffsetsInitializer.latest())
                        .build(),
                WatermarkStrategy.noWatermarks(), "kafka images", TypeInformation.of(ImageRecord.class));
        ViewPolicy policy = ViewPolicies.fashionMnist();
        AugmentationTopology.Result views = AugmentationTopology.build(images, policy, policy, 11, 1, 28, 28, 2, 1,
                Duration.ofMinutes(1));
        views.pairs().sinkTo(TestSinks.collecting("kafka-pairs")).name("pairs");
        views.deadLetters().sinkTo(KafkaJsonSink.of(broker.bootstrapServers(), deadLetterTopic,
                DeliveryGuarantee.AT_LEAST_ONCE, null)).name("dead letters to kafka");
        env.execute("kafka images");

        List<ViewPair> pairs = TestSinks.received("kafka-pairs");
        assertThat(pairs).hasSize(good);
        assertThat(pairs.stream().map(p -> p.id).distinct()).hasSize(good);
        for (ViewPair pair : pairs) {
            assertThat(pixelsById).containsKey(pair.id);
            assertThat(pair.seq).isEqualTo(seqById.get(pair.id));
            assertThat(pair.label).isEqualTo((pair.id - 1000) % 10);
            assertThat(pair.epoch).isZero();
            Image image = Image.fromUnsignedBytes(pixelsById.get(pair.id), 1, 28, 28);
            assertThat(pair.view1).isEqualTo(Views.make(policy, image, 11, pair.id, 0, 0));
            assertThat(pair.view2).isEqualTo(Views.make(policy, image, 11, pair.id, 0, 1));
        }

        List<String> letters = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : broker.readAll(deadLetterTopic, "read_committed")) {
            letters.add(new String(r.value(), StandardCharsets.UTF_8));
        }
        Pattern reason = Pattern.compile("^\\{\"stage\":\"" + DeadLetters.SOURCE_STAGE
                + "\",\"reason\":\"([a-z-]+)\",\"detail\":\"images-[01]@\\d+.*\",\"id\":-1,\"seq\":-1}$");
        List<String> reasons = new ArrayList<>();
        for (String letter : letters) {
            Matcher m = reason.matcher(letter);
            assertThat(m.matches()).as(letter).isTrue();
            reasons.add(m.group(1));
        }
        assertThat(reasons).containsExactlyInAnyOrderElementsOf(expectedReasons);
    }

    /**
     * Slows the first attempt down (20 ms a record until a checkpoint completed, then 2 ms until the failure) so
     * that it spans checkpoints and fails in the middle even on a busy machine; the attempt after the failure runs
     * at full speed.
     */
    private static final class Throttle<T> implements MapFunction<T, T> {
        @Override
        public T map(T value) throws InterruptedException {
            if (!FailOnceAfterCheckpoint.FAILED.get()) {
                Thread.sleep(FailOnceAfterCheckpoint.CHECKPOINTED.get() ? 2 : 20);
            }
            return value;
        }
    }

    private static final class ToStep implements MapFunction<Long, StepMetrics> {
        @Override
        public StepMetrics map(Long step) {
            StepMetrics m = new StepMetrics();
            m.step = step;
            m.loss = step / 1000.0;
            return m;
        }
    }

    @Test
    void theExactlyOnceSinkWritesEveryRecordOnceAcrossAFailure() throws Exception {
        String topic = "steps";
        broker.createTopic(topic, 2);
        int n = 600;
        StreamExecutionEnvironment env = environment(Duration.ofMillis(200));
        FailOnceAfterCheckpoint.reset();
        env.fromSequence(0, n - 1)
                .map(new Throttle<>(), Types.LONG)
                .map(new FailOnceAfterCheckpoint<>(60), Types.LONG)
                .map(new ToStep(), TypeInformation.of(StepMetrics.class))
                .sinkTo(KafkaJsonSink.of(broker.bootstrapServers(), topic, DeliveryGuarantee.EXACTLY_ONCE,
                        "siamstream-test-steps"))
                .name("steps to kafka");
        env.execute("kafka exactly once");
        assertThat(FailOnceAfterCheckpoint.FAILED).as("the failure was injected").isTrue();

        Pattern step = Pattern.compile("^\\{\"replica\":0,\"batch\":\\d+,\"pairs\":\\d+,\"step\":(\\d+),.*}$");
        List<Long> steps = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : broker.readAll(topic, "read_committed")) {
            Matcher m = step.matcher(new String(r.value(), StandardCharsets.UTF_8));
            assertThat(m.matches()).isTrue();
            steps.add(Long.parseLong(m.group(1)));
        }
        assertThat(steps).hasSize(n).doesNotHaveDuplicates();
        assertThat(steps).allMatch(s -> s >= 0 && s < n); // so: each of the n steps exactly once
    }

    /**
     * The whole job on Kafka: images of the bundled sample (and two malformed records) from a topic, arrival
     * batching, SimSiam steps, and steps, dead letters and model-update metadata to Kafka topics, exactly once.
     */
    @Test
    void theJobTrainsFromKafkaAndPublishesToKafka(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        String topic = "job-images";
        String prefix = "job-out-";
        broker.createTopic(topic, 2);
        for (String out : List.of("steps", "reports", "dead-letters", "models")) {
            broker.createTopic(prefix + out, 1);
        }
        int count = 96;
        io.siamstream.connectors.idx.LabeledImages sample =
                io.siamstream.connectors.idx.FashionMnist.sample(io.siamstream.connectors.idx.FashionMnist.Split.TRAIN);
        try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
            for (int i = 0; i < count; i++) {
                byte[] pixels = java.util.Arrays.copyOfRange(sample.pixels(), i * 784, (i + 1) * 784);
                producer.send(image(topic, i % 2, Integer.toString(i), ImageBytes.png(pixels, 1, 28, 28),
                        Integer.toString(sample.label(i)))).get();
                if (i == count / 2) {
                    producer.send(image(topic, 0, "x", ImageBytes.png(pixels, 1, 28, 28), null)).get();
                    producer.send(image(topic, 1, "5000", "not an image".getBytes(StandardCharsets.UTF_8), null)).get();
                }
            }
        }

        Configuration conf = new Configuration();
        conf.set(io.siamstream.job.SiamstreamOptions.SOURCE_KIND, "kafka");
        conf.set(io.siamstream.job.SiamstreamOptions.SINK_KIND, "kafka");
        conf.set(io.siamstream.job.SiamstreamOptions.KAFKA_BOOTSTRAP_SERVERS, broker.bootstrapServers());
        conf.set(io.siamstream.job.SiamstreamOptions.KAFKA_TOPIC, topic);
        conf.set(io.siamstream.job.SiamstreamOptions.KAFKA_OUTPUT_TOPIC_PREFIX, prefix);
        conf.set(io.siamstream.job.SiamstreamOptions.KAFKA_TRANSACTIONAL_ID_PREFIX, "job-test");
        conf.set(io.siamstream.job.SiamstreamOptions.BATCH_SIZE, 16);
        conf.set(io.siamstream.job.SiamstreamOptions.PUBLISH_EVERY, 2);
        conf.set(io.siamstream.job.SiamstreamOptions.LINEAR_EVERY, 0);
        conf.set(io.siamstream.job.SiamstreamOptions.DEVICE, "cpu");
        conf.set(io.siamstream.job.SiamstreamOptions.OUTPUT, tmp.toString());
        io.siamstream.job.JobSettings settings = io.siamstream.job.JobSettings.from(conf);
        io.siamstream.job.KafkaSettings kafka = io.siamstream.job.KafkaSettings.from(conf);
        assertThat(settings.sequenceBatching()).as("kafka defaults to arrival batching").isFalse();

        StreamExecutionEnvironment env = environment(Duration.ofMillis(300));
        DataStream<ImageRecord> images = env.fromSource(
                KafkaImageSource.builder(kafka.bootstrapServers(), topic, "job-test", 1, 28, 28)
                        .keyFormat(kafka.keyFormat()).bounded(OffsetsInitializer.latest()).build(),
                WatermarkStrategy.noWatermarks(), "kafka images", TypeInformation.of(ImageRecord.class))
                .uid(io.siamstream.job.KafkaSettings.SOURCE_UID);
        // as the job's main does: the model versions go to the file system, their announcements to <prefix>models
        io.siamstream.job.SiamstreamJob.build(settings, images,
                kafka.sinks().withArtifacts(io.siamstream.job.ExportSettings.from(conf, settings)));
        env.execute("siamstream on kafka");

        Pattern step = Pattern.compile("^\\{\"replica\":0,\"batch\":\\d+,\"pairs\":\\d+,\"step\":(\\d+),.*}$");
        List<Long> steps = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : broker.readAll(prefix + "steps", "read_committed")) {
            Matcher m = step.matcher(new String(r.value(), StandardCharsets.UTF_8));
            assertThat(m.matches()).as(new String(r.value(), StandardCharsets.UTF_8)).isTrue();
            steps.add(Long.parseLong(m.group(1)));
        }
        assertThat(steps).containsExactly(1L, 2L, 3L, 4L, 5L, 6L); // 96 images, batch 16
        List<String> letters = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : broker.readAll(prefix + "dead-letters", "read_committed")) {
            letters.add(new String(r.value(), StandardCharsets.UTF_8));
        }
        assertThat(letters).hasSize(2);
        assertThat(String.join("\n", letters)).contains(KafkaImageDeserializer.BAD_KEY).contains(DeadLetters.UNDECODABLE);
        List<String> models = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : broker.readAll(prefix + "models", "read_committed")) {
            models.add(new String(r.value(), StandardCharsets.UTF_8));
        }
        assertThat(models).isNotEmpty().anyMatch(m -> m.contains("\"version\":6"));
        // every announcement names a committed version directory and its weights' sha256; no weights travel
        Pattern announced = Pattern.compile(".*\"version\":(\\d+),.*\"uri\":\"([^\"]+)\",\"sha256\":\"([0-9a-f]{64})\","
                + "\"bytes\":(\\d+),\"encoder_bytes\":0,.*");
        for (String m : models) {
            Matcher a = announced.matcher(m);
            assertThat(a.matches()).as(m).isTrue();
            java.nio.file.Path dir = java.nio.file.Path.of(java.net.URI.create(a.group(2)));
            assertThat(dir.getFileName().toString()).isEqualTo(a.group(1));
            java.nio.file.Path weights = dir.resolve("encoder.safetensors");
            assertThat(weights).as("the announced version is committed").isRegularFile();
            assertThat(java.nio.file.Files.size(weights)).isEqualTo(Long.parseLong(a.group(4)));
            assertThat(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(java.nio.file.Files.readAllBytes(weights)))).isEqualTo(a.group(3));
        }
        assertThat(broker.readAll(prefix + "reports", "read_committed")).isNotEmpty();
    }

    /**
     * The embedding stream on Kafka: the job trains on the bundled sample, an injected failure hits the artifact sink
     * after a version is staged and before its checkpoint, and 40 images of a Kafka topic are embedded. The
     * read_committed {@code <prefix>embeddings} topic has each image once, keyed by its id, with a model-version
     * header naming a committed version, and a float32 little-endian value equal to what that version's committed
     * artifact computes for the image.
     */
    @Test
    void embeddingsReachKafkaWithTheirCommittedVersion(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        String topic = "embed-images";
        String prefix = "embed-out-";
        broker.createTopic(topic, 2);
        for (String out : List.of("steps", "reports", "dead-letters", "models", "embeddings", "embedding-sets")) {
            broker.createTopic(prefix + out, 1);
        }
        int count = 40;
        io.siamstream.connectors.idx.LabeledImages test =
                io.siamstream.connectors.idx.FashionMnist.sample(io.siamstream.connectors.idx.FashionMnist.Split.TEST);
        try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
            for (int i = 0; i < count; i++) {
                byte[] pixels = java.util.Arrays.copyOfRange(test.pixels(), i * 784, (i + 1) * 784);
                producer.send(image(topic, i % 2, Integer.toString(i), ImageBytes.png(pixels, 1, 28, 28), null)).get();
            }
        }
        Configuration conf = new Configuration();
        conf.set(io.siamstream.job.SiamstreamOptions.SINK_KIND, "kafka");
        conf.set(io.siamstream.job.SiamstreamOptions.KAFKA_BOOTSTRAP_SERVERS, broker.bootstrapServers());
        conf.set(io.siamstream.job.SiamstreamOptions.KAFKA_OUTPUT_TOPIC_PREFIX, prefix);
        conf.set(io.siamstream.job.SiamstreamOptions.KAFKA_TRANSACTIONAL_ID_PREFIX, "embed-test");
        conf.set(io.siamstream.job.SiamstreamOptions.EPOCHS, 1L);
        conf.set(io.siamstream.job.SiamstreamOptions.BATCH_SIZE, 64);
        conf.set(io.siamstream.job.SiamstreamOptions.PUBLISH_EVERY, 5);
        conf.set(io.siamstream.job.SiamstreamOptions.LINEAR_EVERY, 0);
        conf.set(io.siamstream.job.SiamstreamOptions.DEVICE, "cpu");
        conf.set(io.siamstream.job.SiamstreamOptions.OUTPUT, tmp.toString());
        conf.set(io.siamstream.job.SiamstreamOptions.EXPORT_KEEP_LAST, 1000);
        conf.set(io.siamstream.job.SiamstreamOptions.EMBED_SOURCE, "kafka");
        conf.set(io.siamstream.job.SiamstreamOptions.EMBED_KAFKA_TOPIC, topic);
        conf.set(io.siamstream.job.SiamstreamOptions.EMBED_BATCH_SIZE, 8);
        io.siamstream.job.JobSettings settings = io.siamstream.job.JobSettings.from(conf);
        io.siamstream.job.KafkaSettings kafka = io.siamstream.job.KafkaSettings.from(conf);
        io.siamstream.job.EmbedSettings embed = io.siamstream.job.EmbedSettings.from(conf, settings, true);
        ModelArtifactJobTest.FAILED.set(false);
        var artifacts = new ModelArtifactJobTest.FailingOnceSink(
                io.siamstream.job.ExportSettings.from(conf, settings).spec());

        StreamExecutionEnvironment env = environment(Duration.ofMillis(300));
        env.setParallelism(1);
        DataStream<ImageRecord> toEmbed = env.fromSource(
                KafkaImageSource.builder(kafka.bootstrapServers(), topic, "embed-test", 1, 28, 28)
                        .keyFormat(kafka.keyFormat()).bounded(OffsetsInitializer.latest()).build(),
                WatermarkStrategy.noWatermarks(), "kafka images to embed", TypeInformation.of(ImageRecord.class))
                .uid(io.siamstream.job.EmbedSettings.SOURCE_UID);
        io.siamstream.job.SiamstreamJob.build(settings, io.siamstream.job.SiamstreamJob.replaySource(env, settings),
                kafka.withEmbeddings(kafka.sinks().withArtifacts(artifacts)), null, toEmbed, embed);
        env.execute("siamstream embeddings on kafka");
        assertThat(ModelArtifactJobTest.FAILED.get()).as("the failure was injected").isTrue();

        java.nio.file.Path models = tmp.resolve("models");
        java.util.Map<Long, io.siamstream.eval.ImageEmbedder> embedders = new java.util.HashMap<>();
        java.util.Set<Long> ids = new java.util.HashSet<>();
        try {
            for (ConsumerRecord<byte[], byte[]> r : broker.readAll(prefix + "embeddings", "read_committed")) {
                long id = Long.parseLong(new String(r.key(), StandardCharsets.UTF_8));
                assertThat(ids.add(id)).as("image " + id + " embedded once").isTrue();
                long version = Long.parseLong(new String(r.headers().lastHeader(
                        io.siamstream.connectors.kafka.KafkaEmbeddingSink.VERSION_HEADER).value(), StandardCharsets.UTF_8));
                java.nio.file.Path dir = models.resolve(String.valueOf(version));
                assertThat(dir.resolve("encoder.safetensors")).as("version " + version + " is committed").isRegularFile();
                float[] vector = io.siamstream.connectors.kafka.KafkaEmbeddingSink.vector(r.value());
                var embedder = embedders.computeIfAbsent(version, v -> {
                    try {
                        return new io.siamstream.eval.ImageEmbedder(io.siamstream.connectors.model.CommittedArtifactLoader
                                .read(io.siamstream.connectors.model.CommittedArtifactLoader.localFiles(), dir.toString(), null), ai.djl.Device.cpu());
                    } catch (io.siamstream.eval.ModelVersionRejected e) {
                        throw new AssertionError(e);
                    }
                });
                float[] want = embedder.embed(List.of(java.util.Arrays.copyOfRange(test.pixels(), (int) id * 784,
                        (int) (id + 1) * 784)))[0];
                assertThat(vector).hasSize(want.length);
                for (int k = 0; k < want.length; k++) {
                    assertThat((double) Math.abs(vector[k] - want[k])).as("image %d [%d]", id, k).isLessThanOrEqualTo(1e-6);
                }
            }
        } finally {
            embedders.values().forEach(io.siamstream.eval.ImageEmbedder::close);
        }
        assertThat(ids).hasSize(count);
    }
}
