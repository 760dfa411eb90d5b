package io.siamstream.job;

import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/** The job's settings as Flink ConfigOptions: set them in the Flink configuration file or as --key value flags. */
public final class SiamstreamOptions {

    private SiamstreamOptions() {}

    public static final ConfigOption<String> DATA = ConfigOptions.key("siamstream.data")
            .stringType().defaultValue("bundled")
            .withDescription("Where the Fashion-MNIST IDX files are: 'bundled' (the sample in the jar) or a directory.");
    public static final ConfigOption<Long> EPOCHS = ConfigOptions.key("siamstream.source.epochs")
            .longType().defaultValue(0L)
            .withDescription("Epochs of dataset replay; 0 replays endlessly.");
    public static final ConfigOption<Integer> SPLITS = ConfigOptions.key("siamstream.source.splits")
            .intType().defaultValue(2).withDescription("Interleaved splits of the replay source.");
    public static final ConfigOption<Long> SEED = ConfigOptions.key("siamstream.seed")
            .longType().defaultValue(42L).withDescription("Run seed: parameters, shuffles and augmentations derive from it.");
    public static final ConfigOption<String> ENCODER = ConfigOptions.key("siamstream.encoder")
            .stringType().defaultValue("convnet").withDescription("convnet, resnet18_cifar or resnet50.");
    public static final ConfigOption<Integer> BATCH_SIZE = ConfigOptions.key("siamstream.train.batch-size")
            .intType().defaultValue(128).withDescription("View pairs per training step.");
    public static final ConfigOption<Double> BASE_LR = ConfigOptions.key("siamstream.train.base-lr")
            .doubleType().defaultValue(0.5).withDescription("Base learning rate; lr = base-lr x batch / 256.");
    public static final ConfigOption<Long> SCHEDULE_STEPS = ConfigOptions.key("siamstream.train.schedule-steps")
            .longType().defaultValue(10_000L).withDescription("Length of the cosine schedule in steps.");
    public static final ConfigOption<String> DEVICE = ConfigOptions.key("siamstream.train.device")
            .stringType().defaultValue("auto").withDescription("auto, cpu, gpu or gpu:N.");
    public static final ConfigOption<String> BATCHING = ConfigOptions.key("siamstream.train.batching")
            .stringType().defaultValue("sequence")
            .withDescription("sequence (batch b = seqs [bB, (b+1)B), order-independent) or arrival (every B pairs).");
    public static final ConfigOption<Integer> PUBLISH_EVERY = ConfigOptions.key("siamstream.train.publish-every")
            .intType().defaultValue(50).withDescription("Publish a model update (and evaluate it) every N steps.");
    public static final ConfigOption<Integer> LINEAR_EVERY = ConfigOptions.key("siamstream.eval.linear-every")
            .intType().defaultValue(4).withDescription("Run the linear probe every N evaluations (0: never).");
    public static final ConfigOption<Integer> VIEW1_PARALLELISM = ConfigOptions.key("siamstream.augment.view1.parallelism")
            .intType().defaultValue(1).withDescription("Parallelism of the view-1 augmentation operator.");
    public static final ConfigOption<Integer> VIEW2_PARALLELISM = ConfigOptions.key("siamstream.augment.view2.parallelism")
            .intType().defaultValue(1).withDescription("Parallelism of the view-2 augmentation operator.");
    public static final ConfigOption<Duration> PAIR_TIMEOUT = ConfigOptions.key("siamstream.augment.pair-timeout")
            .durationType().defaultValue(Duration.ofMinutes(10))
            .withDescription("How long a view waits for its partner before it goes to the dead letter.");
    public static final ConfigOption<String> OUTPUT = ConfigOptions.key("siamstream.output")
            .stringType().defaultValue("out/siamstream")
            .withDescription("Folder of the JSON-lines sinks: steps/, reports/, dead-letters/.");
}
