package io.siamstream.job;

import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.MemorySize;

/** The job's settings as Flink ConfigOptions: set them in the Flink configuration file or as --key value flags. */
public final class SiamstreamOptions {

    private SiamstreamOptions() {}

    public static final ConfigOption<String> FORMAT = ConfigOptions.key("siamstream.source.format")
            .stringType().defaultValue("fashion-mnist")
            .withDescription("The dataset format: fashion-mnist (IDX, 1x28x28), cifar10 (binary batches, 3x32x32) or"
                    + " image-folder (PNG/JPEG files; labels from sub-folder names; shape from source.channels and"
                    + " source.image-size).");
    public static final ConfigOption<String> DATA = ConfigOptions.key("siamstream.data")
            .stringType().defaultValue("bundled")
            .withDescription("Where the dataset is: 'bundled' (the Fashion-MNIST sample in the jar; fashion-mnist only)"
                    + " or a directory: the Fashion-MNIST IDX files, the CIFAR-10 batches (cifar-10-batches-bin or its"
                    + " parent), or the root of an image folder.");
    public static final ConfigOption<Integer> CHANNELS = ConfigOptions.key("siamstream.source.channels")
            .intType().noDefaultValue()
            .withDescription("image-folder: 1 (grayscale) or 3 (RGB, the default); images are converted to it."
                    + " Other formats have fixed channels; a different value is an error.");
    public static final ConfigOption<Integer> IMAGE_SIZE = ConfigOptions.key("siamstream.source.image-size")
            .intType().noDefaultValue()
            .withDescription("image-folder: height = width of every image (default 32); images of another size go to"
                    + " the dead letter, they are not resized. Other formats have a fixed size; a different value is an"
                    + " error.");
    public static final ConfigOption<java.util.List<Float>> MEAN = ConfigOptions.key("siamstream.source.mean")
            .floatType().asList().noDefaultValue()
            .withDescription("Per-channel normalisation mean, ';'-separated. Defaults: Fashion-MNIST 0.2860,"
                    + " CIFAR-10 0.4914;0.4822;0.4465, image folder ImageNet's (RGB) or 0.5 (gray).");
    public static final ConfigOption<java.util.List<Float>> STD = ConfigOptions.key("siamstream.source.std")
            .floatType().asList().noDefaultValue()
            .withDescription("Per-channel normalisation std, ';'-separated. Defaults: Fashion-MNIST 0.3530,"
                    + " CIFAR-10 0.2470;0.2435;0.2616, image folder ImageNet's (RGB) or 0.5 (gray).");
    public static final ConfigOption<Long> EPOCHS = ConfigOptions.key("siamstream.source.epochs")
            .longType().defaultValue(0L)
            .withDescription("Epochs of dataset replay; 0 replays endlessly.");
    public static final ConfigOption<Integer> SPLITS = ConfigOptions.key("siamstream.source.splits")
            .intType().defaultValue(2).withDescription("Interleaved splits of the replay source.");
    public static final ConfigOption<Long> SEED = ConfigOptions.key("siamstream.seed")
            .longType().defaultValue(42L).withDescription("Run seed: parameters, shuffles and augmentations derive from it.");
    public static final ConfigOption<String> ENCODER = ConfigOptions.key("siamstream.encoder")
            .stringType().defaultValue("convnet").withDescription("convnet, resnet18_cifar or resnet50.");
    public static final ConfigOption<Integer> POOL_GRID = ConfigOptions.key("siamstream.encoder.pool-grid")
            .intType().defaultValue(1)
            .withDescription("How the encoder's last feature map becomes its features: 1 averages it whole (global"
                    + " average pooling); g (2 to 4) averages each cell of a g x g grid and keeps them all (g * g times"
                    + " the features), so that the features keep the image's coarse layout.");
    public static final ConfigOption<String> METHOD = ConfigOptions.key("siamstream.method")
            .stringType().defaultValue("simsiam")
            .withDescription("The self-supervised method: simsiam, byol, simclr or moco (MoCo v2).");
    public static final ConfigOption<Double> BYOL_BASE_TAU = ConfigOptions.key("siamstream.method.byol.base-tau")
            .doubleType().defaultValue(0.996)
            .withDescription("BYOL: the target's EMA coefficient at step 0; it rises to 1 along the cosine schedule.");
    public static final ConfigOption<Double> SIMCLR_TEMPERATURE = ConfigOptions.key("siamstream.method.simclr.temperature")
            .doubleType().defaultValue(0.5).withDescription("SimCLR: the NT-Xent temperature.");
    public static final ConfigOption<Double> MOCO_MOMENTUM = ConfigOptions.key("siamstream.method.moco.momentum")
            .doubleType().defaultValue(0.99)
            .withDescription("MoCo v2: the key encoder's EMA coefficient (0.99 small data, 0.999 ImageNet).");
    public static final ConfigOption<Integer> MOCO_QUEUE_SIZE = ConfigOptions.key("siamstream.method.moco.queue-size")
            .intType().defaultValue(4096).withDescription("MoCo v2: the number of queued negative keys K.");
    public static final ConfigOption<Double> MOCO_TEMPERATURE = ConfigOptions.key("siamstream.method.moco.temperature")
            .doubleType().defaultValue(0.2).withDescription("MoCo v2: the InfoNCE temperature.");
    public static final ConfigOption<String> OPTIMIZER = ConfigOptions.key("siamstream.train.optimizer")
            .stringType().defaultValue("auto")
            .withDescription("auto (the method's paper: SGD for simsiam and moco, LARS for byol and simclr), sgd or"
                    + " lars.");
    public static final ConfigOption<Double> WEIGHT_DECAY = ConfigOptions.key("siamstream.train.weight-decay")
            .doubleType().noDefaultValue()
            .withDescription("Weight decay; default 5e-4 with SGD, 1e-5 with LARS (which excludes biases and BN).");
    public static final ConfigOption<Double> LARS_ETA = ConfigOptions.key("siamstream.train.lars-eta")
            .doubleType().defaultValue(0.001).withDescription("LARS trust coefficient eta.");
    public static final ConfigOption<Integer> BATCH_SIZE = ConfigOptions.key("siamstream.train.batch-size")
            .intType().defaultValue(128).withDescription("View pairs per training step.");
    public static final ConfigOption<Double> BASE_LR = ConfigOptions.key("siamstream.train.base-lr")
            .doubleType().defaultValue(0.5).withDescription("Base learning rate; lr = base-lr x batch / 256.");
    public static final ConfigOption<String> SCHEDULE = ConfigOptions.key("siamstream.train.schedule")
            .stringType().noDefaultValue()
            .withDescription("The learning-rate schedule after warm-up: cosine (a half cosine to 0 over"
                    + " siamstream.train.schedule-steps), constant, or cosine-restarts (SGDR: half cosines over"
                    + " siamstream.train.restart-period steps, each period restart-multiplier times the one before)."
                    + " Default: cosine over the run's real length (epochs x images / batch) for bounded input;"
                    + " constant after warm-up for unbounded input (endless replay, Kafka), so learning never stops;"
                    + " cosine when only schedule-steps is set.");
    public static final ConfigOption<Long> SCHEDULE_STEPS = ConfigOptions.key("siamstream.train.schedule-steps")
            .longType().noDefaultValue()
            .withDescription("Length of the cosine schedule in steps, warm-up included. Default for bounded input:"
                    + " the run's real length, epochs x images / batch. Required for cosine on unbounded input.");
    public static final ConfigOption<Long> WARMUP_STEPS = ConfigOptions.key("siamstream.train.warmup-steps")
            .longType().noDefaultValue()
            .withDescription("Steps of linear warm-up to the peak rate. Default: 0 for cosine, "
                    + JobSettings.UNBOUNDED_WARMUP_STEPS + " for the constant and cosine-restarts schedules.");
    public static final ConfigOption<Long> RESTART_PERIOD = ConfigOptions.key("siamstream.train.restart-period")
            .longType().defaultValue(10_000L)
            .withDescription("cosine-restarts: the length in steps of the first period after warm-up.");
    public static final ConfigOption<Double> RESTART_MULTIPLIER = ConfigOptions.key("siamstream.train.restart-multiplier")
            .doubleType().defaultValue(1.0)
            .withDescription("cosine-restarts: each period is this many times the one before (>= 1; SGDR used 2).");
    public static final ConfigOption<String> DEVICE = ConfigOptions.key("siamstream.train.device")
            .stringType().defaultValue("auto")
            .withDescription("auto, cpu, gpu or gpu:N. auto takes the GPU that Flink's external resource 'gpu' assigned"
                    + " to the task (its index; the lowest of several), else DJL's first GPU, else the CPU; cpu and"
                    + " gpu:N win over the assignment. The trainer and the evaluation follow the same rule.");
    public static final ConfigOption<Integer> BACKGROUND_NICENESS = ConfigOptions.key("siamstream.train.background-niceness")
            .intType().defaultValue(0)
            .withDescription("0 to 19. While a learner trains on the CPU, the background threads of its TaskManager"
                    + " that compete with it (the writer of the learner's checkpoint bytes, the JIT compilers, Flink's"
                    + " output flushers) run at this nice value, so that they use what the learner's fork-join threads"
                    + " leave idle instead of preempting them. 0 leaves priorities alone. Lowered threads stay lowered:"
                    + " an unprivileged process cannot raise them again.");
    public static final ConfigOption<String> BATCHING = ConfigOptions.key("siamstream.train.batching")
            .stringType().defaultValue("sequence")
            .withDescription("sequence (batch b = seqs [bB, (b+1)B), order-independent) or arrival (every B pairs).");
    public static final ConfigOption<Integer> PUBLISH_EVERY = ConfigOptions.key("siamstream.train.publish-every")
            .intType().defaultValue(50).withDescription("Publish a model update (and evaluate it) every N steps.");
    public static final ConfigOption<Boolean> REPORT = ConfigOptions.key("siamstream.report")
            .booleanType().defaultValue(true)
            .withDescription("Write report.html into a local output folder (siamstream.output a path or file: URI,"
                    + " file sinks) at every committed evaluation and at the end, in the process that runs the job's"
                    + " main (the JobManager in application mode): it holds the evaluation data and embeds the test"
                    + " split with the latest version, so give that process the memory. Off elsewhere; the `report`"
                    + " command writes it from the files.");
    public static final ConfigOption<MemorySize> MAX_PENDING_MEMORY = ConfigOptions.key("siamstream.train.max-pending-memory")
            .memoryType().defaultValue(MemorySize.parse("256mb"))
            .withDescription("Sequence batching: how much memory the view pairs waiting for their batch may take (at"
                    + " least 4 batches' worth). Past it the oldest open batch trains with the pairs it has, without"
                    + " a seq that never arrived (a record lost upstream without a skip marker); its stragglers go to"
                    + " the dead letter as late-pair, and the forcedBatches metric counts it. Pairs arrive out of order"
                    + " by up to a few thousand seqs in normal running, so keep it well above that.");
    public static final ConfigOption<Boolean> EVALUATE = ConfigOptions.key("siamstream.eval.enabled")
            .booleanType().defaultValue(true).withDescription("Evaluate published encoders inside the job (kNN, linear"
                    + " probe, feature std). false: no evaluation operator work and no reports, e.g. where a separate"
                    + " service scores the exported models, or a benchmark gives every core to training.");
    public static final ConfigOption<Integer> LINEAR_EVERY = ConfigOptions.key("siamstream.eval.linear-every")
            .intType().defaultValue(4).withDescription("Run the linear probe every N evaluations (0: never).");
    public static final ConfigOption<Integer> VIEW1_PARALLELISM = ConfigOptions.key("siamstream.augment.view1.parallelism")
            .intType().defaultValue(1).withDescription("Parallelism of the view-1 augmentation operator.");
    public static final ConfigOption<Integer> VIEW2_PARALLELISM = ConfigOptions.key("siamstream.augment.view2.parallelism")
            .intType().defaultValue(1).withDescription("Parallelism of the view-2 augmentation operator.");
    public static final ConfigOption<Double> CROP_MIN_SCALE = ConfigOptions.key("siamstream.augment.crop-min-scale")
            .doubleType().noDefaultValue().withDescription("The random resized crop's smallest share of the image's"
                    + " area, in (0, 1], for every view. Unset: the method's policy (0.2 for SimSiam, SimCLR and MoCo"
                    + " v2; 0.08 for BYOL). A larger value is a milder crop.");
    public static final ConfigOption<Duration> PAIR_TIMEOUT = ConfigOptions.key("siamstream.augment.pair-timeout")
            .durationType().defaultValue(Duration.ofMinutes(10))
            .withDescription("How long a view waits for its partner before it goes to the dead letter.");
    public static final ConfigOption<String> OUTPUT = ConfigOptions.key("siamstream.output")
            .stringType().defaultValue("out/siamstream")
            .withDescription("Folder of the JSON-lines sinks: steps/, reports/, dead-letters/.");

    public static final ConfigOption<String> SOURCE_KIND = ConfigOptions.key("siamstream.source.kind")
            .stringType().defaultValue("replay")
            .withDescription("Where training images come from: replay (dataset replay of siamstream.data) or kafka"
                    + " (records of a Kafka topic: key = image id, value = PNG/JPEG/raw image, header 'label'"
                    + " optional). With kafka, siamstream.source.format and siamstream.data still give the image shape"
                    + " and the evaluation set, and batching defaults to arrival.");
    public static final ConfigOption<String> SINK_KIND = ConfigOptions.key("siamstream.sink.kind")
            .stringType().defaultValue("files")
            .withDescription("Where steps, reports, dead letters (and, with kafka, model-update metadata) go: files"
                    + " (exactly-once JSON lines under siamstream.output) or kafka (JSON records to"
                    + " <siamstream.kafka.output-topic-prefix>steps, ...reports, ...dead-letters, ...models).");
    public static final ConfigOption<String> KAFKA_BOOTSTRAP_SERVERS = ConfigOptions.key("siamstream.kafka.bootstrap-servers")
            .stringType().noDefaultValue()
            .withDescription("Kafka bootstrap servers; required when the source or the sink is kafka.");
    public static final ConfigOption<String> KAFKA_TOPIC = ConfigOptions.key("siamstream.kafka.topic")
            .stringType().defaultValue("siamstream-images").withDescription("The topic of input images.");
    public static final ConfigOption<String> KAFKA_GROUP_ID = ConfigOptions.key("siamstream.kafka.group-id")
            .stringType().defaultValue("siamstream").withDescription("The consumer group of the image source.");
    public static final ConfigOption<String> KAFKA_KEY_FORMAT = ConfigOptions.key("siamstream.kafka.key-format")
            .stringType().defaultValue("decimal")
            .withDescription("How the record key holds the image id: decimal (UTF-8 digits) or long (8 bytes, big-endian).");
    public static final ConfigOption<String> KAFKA_OUTPUT_TOPIC_PREFIX = ConfigOptions.key("siamstream.kafka.output-topic-prefix")
            .stringType().defaultValue("siamstream-").withDescription("Prefix of the output topics.");
    public static final ConfigOption<String> KAFKA_DELIVERY = ConfigOptions.key("siamstream.kafka.delivery-guarantee")
            .stringType().defaultValue("exactly-once")
            .withDescription("exactly-once (Kafka transactions committed on checkpoints; readers use read_committed)"
                    + " or at-least-once.");
    public static final ConfigOption<String> KAFKA_TRANSACTIONAL_ID_PREFIX = ConfigOptions.key("siamstream.kafka.transactional-id-prefix")
            .stringType().defaultValue("siamstream")
            .withDescription("Prefix of the sink's Kafka transactional ids; unique per job.");

    public static final ConfigOption<String> EXPORT_MODELS = ConfigOptions.key("siamstream.export.models")
            .stringType().noDefaultValue()
            .withDescription("Where model artifacts go: a Flink FileSystem URI or path (file:///..., s3://...,"
                    + " hdfs://...); default <siamstream.output>/models. Every published version becomes <version>/"
                    + " (encoder.safetensors, model.json) when the checkpoint that covers it completes; LATEST names"
                    + " the newest. 'none' turns the export off.");
    public static final ConfigOption<Boolean> EXPORT_HEADS = ConfigOptions.key("siamstream.export.heads")
            .booleanType().defaultValue(false)
            .withDescription("Also export the projector and predictor (heads.safetensors) with every version.");
    public static final ConfigOption<Integer> EXPORT_KEEP_LAST = ConfigOptions.key("siamstream.export.keep-last")
            .intType().defaultValue(10)
            .withDescription("Retention: the newest versions kept (at least 1).");
    public static final ConfigOption<Integer> EXPORT_KEEP_EVERY = ConfigOptions.key("siamstream.export.keep-every")
            .intType().defaultValue(0)
            .withDescription("Retention: also keep every M-th published version (step divisible by M x"
                    + " train.publish-every); 0 keeps none beyond the newest ones.");

    public static final ConfigOption<String> EMBED_SOURCE = ConfigOptions.key("siamstream.embed.source")
            .stringType().defaultValue("none")
            .withDescription("A second image stream to embed with the newest committed model version: none, kafka"
                    + " (siamstream.embed.kafka.topic, the training source's record format), image-folder"
                    + " (siamstream.embed.path) or replay (siamstream.embed.split of siamstream.data, once)."
                    + " Embeddings go to embeddings/ (files) or <prefix>embeddings (Kafka). Needs model export.");
    public static final ConfigOption<String> EMBED_KAFKA_TOPIC = ConfigOptions.key("siamstream.embed.kafka.topic")
            .stringType().defaultValue("siamstream-embed-images")
            .withDescription("embed.source kafka: the topic of the images to embed.");
    public static final ConfigOption<String> EMBED_PATH = ConfigOptions.key("siamstream.embed.path")
            .stringType().noDefaultValue()
            .withDescription("embed.source image-folder: the folder of images to embed (of the training images' shape).");
    public static final ConfigOption<String> EMBED_SPLIT = ConfigOptions.key("siamstream.embed.split")
            .stringType().defaultValue("test")
            .withDescription("embed.source replay: the split of siamstream.data to embed, test or train.");
    public static final ConfigOption<Boolean> EMBED_REFRESH = ConfigOptions.key("siamstream.embed.refresh")
            .booleanType().defaultValue(false)
            .withDescription("A bounded catalogue (image-folder, replay): every newly committed version re-embeds the"
                    + " whole catalogue, and a marker (version, count, part, parts) in embedding-sets says when a"
                    + " version's set is complete.");
    public static final ConfigOption<Integer> EMBED_BATCH_SIZE = ConfigOptions.key("siamstream.embed.batch-size")
            .intType().defaultValue(256).withDescription("Images per forward pass of the embedder.");
    public static final ConfigOption<Integer> EMBED_PARALLELISM = ConfigOptions.key("siamstream.embed.parallelism")
            .intType().defaultValue(1).withDescription("Parallelism of the embedding operator.");
    public static final ConfigOption<Integer> EMBED_MAX_WAITING = ConfigOptions.key("siamstream.embed.max-waiting")
            .intType().defaultValue(10_000)
            .withDescription("Images that may wait (in checkpointed state) for the first committed version, per"
                    + " embedder; past it they go to the dead letter as no-committed-model.");
    public static final ConfigOption<Duration> EMBED_MAX_DELAY = ConfigOptions.key("siamstream.embed.max-delay")
            .durationType().defaultValue(Duration.ofMillis(200))
            .withDescription("The longest an image waits for its batch to fill before a smaller batch runs.");
    public static final ConfigOption<Duration> EMBED_ARTIFACT_TIMEOUT = ConfigOptions.key("siamstream.embed.artifact-timeout")
            .durationType().defaultValue(Duration.ofMinutes(1))
            .withDescription("How long the artifact of a committed version is looked for before the version is"
                    + " rejected (dead letter artifact-missing) and the previous one stays in use.");
}
