package io.siamstream.job;

import io.siamstream.connectors.cifar.Cifar10;
import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.connectors.kafka.KafkaImageSource;
import io.siamstream.connectors.replay.DatasetReplaySource;
import io.siamstream.connectors.replay.ReplayDataset;
import io.siamstream.flink.EmbeddingOperator;
import io.siamstream.record.ImageRecord;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The validated embedding options ({@code siamstream.embed.*}): which second image stream is embedded, and how.
 * Bad values fail at start naming the option and what is allowed.
 */
public record EmbedSettings(String source, String kafkaTopic, String path, String split, boolean refresh,
                            int parallelism, EmbeddingOperator.Settings operator) implements Serializable {

    /** The uid of the embedding source and of the embedding operator. */
    public static final String SOURCE_UID = "embed-source";
    public static final String EMBED_UID = "embed";

    /** The settings, or null where {@code siamstream.embed.source} is none. */
    public static EmbedSettings from(Configuration conf, JobSettings job, boolean modelExport) {
        String source = conf.get(SiamstreamOptions.EMBED_SOURCE).trim().toLowerCase(Locale.ROOT);
        String key = SiamstreamOptions.EMBED_SOURCE.key();
        switch (source) {
            case "none":
                return null;
            case "kafka", "image-folder", "replay":
                break;
            default:
                throw new IllegalArgumentException(key + ": '" + source + "' is not allowed; allowed values: none,"
                        + " kafka, image-folder, replay");
        }
        if (!modelExport) {
            throw new IllegalArgumentException(key + ": " + source + " embeds with the committed model artifacts, but "
                    + SiamstreamOptions.EXPORT_MODELS.key() + " is none; set it to a directory or " + key + " to none");
        }
        String path = conf.getOptional(SiamstreamOptions.EMBED_PATH).map(String::trim).orElse("");
        if (source.equals("image-folder") && (path.isEmpty() || !Files.isDirectory(Path.of(path)))) {
            throw new IllegalArgumentException(SiamstreamOptions.EMBED_PATH.key() + ": '" + path + "' is not a folder;"
                    + " " + key + " image-folder needs the folder of images to embed");
        }
        String split = conf.get(SiamstreamOptions.EMBED_SPLIT).trim().toLowerCase(Locale.ROOT);
        if (!split.equals("test") && !split.equals("train")) {
            throw new IllegalArgumentException(SiamstreamOptions.EMBED_SPLIT.key() + ": '" + split
                    + "' is not allowed; allowed values: test, train");
        }
        boolean refresh = conf.get(SiamstreamOptions.EMBED_REFRESH);
        if (refresh && source.equals("kafka")) {
            throw new IllegalArgumentException(SiamstreamOptions.EMBED_REFRESH.key() + ": true needs a bounded"
                    + " catalogue; allowed with " + key + " image-folder or replay, not kafka");
        }
        int batch = conf.get(SiamstreamOptions.EMBED_BATCH_SIZE);
        if (batch < 1 || batch > 65_536) {
            throw new IllegalArgumentException(SiamstreamOptions.EMBED_BATCH_SIZE.key() + ": " + batch
                    + " is out of range; allowed: 1 to 65536");
        }
        int parallelism = conf.get(SiamstreamOptions.EMBED_PARALLELISM);
        if (parallelism < 1) {
            throw new IllegalArgumentException(SiamstreamOptions.EMBED_PARALLELISM.key() + ": " + parallelism
                    + " is out of range; allowed: at least 1");
        }
        int waiting = conf.get(SiamstreamOptions.EMBED_MAX_WAITING);
        if (waiting < 0) {
            throw new IllegalArgumentException(SiamstreamOptions.EMBED_MAX_WAITING.key() + ": " + waiting
                    + " is out of range; allowed: 0 or more images");
        }
        long delay = conf.get(SiamstreamOptions.EMBED_MAX_DELAY).toMillis();
        long timeout = conf.get(SiamstreamOptions.EMBED_ARTIFACT_TIMEOUT).toMillis();
        if (delay < 0 || timeout < 0) {
            throw new IllegalArgumentException(SiamstreamOptions.EMBED_MAX_DELAY.key() + " and "
                    + SiamstreamOptions.EMBED_ARTIFACT_TIMEOUT.key() + " must not be negative");
        }
        return new EmbedSettings(source, conf.get(SiamstreamOptions.EMBED_KAFKA_TOPIC).trim(), path, split, refresh,
                parallelism, new EmbeddingOperator.Settings(job.channels(), job.imageSize(), batch, waiting, refresh,
                delay, timeout, job.learner().device()));
    }

    /** The images to embed: a Kafka topic, an image folder or a dataset split, read once. */
    public DataStream<ImageRecord> images(StreamExecutionEnvironment env, JobSettings job, KafkaSettings kafka) {
        if (source.equals("kafka")) {
            if (kafka.bootstrapServers().isEmpty()) {
                throw new IllegalArgumentException(SiamstreamOptions.KAFKA_BOOTSTRAP_SERVERS.key() + " is required"
                        + " when " + SiamstreamOptions.EMBED_SOURCE.key() + " is kafka");
            }
            return env.fromSource(kafka.withClientProperties(KafkaImageSource.builder(kafka.bootstrapServers(),
                                    kafkaTopic, kafka.groupId() + "-embed", job.channels(), job.imageSize(),
                                    job.imageSize()).keyFormat(kafka.keyFormat())).build(),
                    WatermarkStrategy.noWatermarks(), "embed kafka " + kafkaTopic, TypeInformation.of(ImageRecord.class))
                    .uid(SOURCE_UID);
        }
        ReplayDataset dataset = dataset(job);
        return env.fromSource(new DatasetReplaySource(dataset, job.seed(), 1, parallelism),
                        WatermarkStrategy.noWatermarks(), "embed " + dataset, TypeInformation.of(ImageRecord.class))
                .uid(SOURCE_UID).setParallelism(parallelism);
    }

    /** The catalogue of image-folder and replay. */
    public ReplayDataset dataset(JobSettings job) {
        if (source.equals("image-folder")) {
            return ReplayDataset.imageFolder(Path.of(path), job.channels(), job.imageSize());
        }
        boolean test = split.equals("test");
        return switch (job.format()) {
            case FASHION_MNIST -> job.data().equals("bundled")
                    ? ReplayDataset.bundled(test ? FashionMnist.Split.TEST : FashionMnist.Split.TRAIN)
                    : ReplayDataset.fashionMnist(Path.of(job.data()), test ? FashionMnist.Split.TEST : FashionMnist.Split.TRAIN);
            case CIFAR10 -> ReplayDataset.cifar10(Path.of(job.data()), test ? Cifar10.Split.TEST : Cifar10.Split.TRAIN);
            case IMAGE_FOLDER -> ReplayDataset.imageFolder(Path.of(job.data()), job.channels(), job.imageSize());
        };
    }
}
