package io.siamstream.job;

import io.siamstream.augment.ViewPolicies;
import io.siamstream.augment.ViewPolicy;
import io.siamstream.connectors.cifar.Cifar10;
import io.siamstream.connectors.folder.ImageFolder;
import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.connectors.idx.FashionMnistEvaluation;
import io.siamstream.connectors.replay.DatasetEvaluation;
import io.siamstream.connectors.replay.DatasetFormat;
import io.siamstream.connectors.replay.ReplayDataset;
import io.siamstream.eval.EvaluationSet;
import io.siamstream.flink.LearnerCpuPriority;
import io.siamstream.method.ByolConfig;
import io.siamstream.method.MethodConfig;
import io.siamstream.method.MocoConfig;
import io.siamstream.method.SimClrConfig;
import io.siamstream.model.EncoderConfig;
import io.siamstream.model.EncoderKind;
import io.siamstream.model.HeadConfig;
import io.siamstream.train.LearnerConfig;
import io.siamstream.train.OptimizerConfig;
import io.siamstream.train.ScheduleKind;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.function.SerializableSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The validated settings of one job, read from a Flink {@link Configuration}; bad values fail here, naming the option.
 * The dataset ({@code format}, {@code data}) fixes the image shape ({@code channels} x {@code imageSize} x
 * {@code imageSize}) that the views, the model and the evaluation follow, and the normalisation {@code mean} and
 * {@code std} (one per channel).
 */
public record JobSettings(
        String data, long epochs, int splits, long seed, LearnerConfig learner, boolean sequenceBatching,
        int publishEvery, int maxPendingPairs, boolean evaluate, int linearEvery, int view1Parallelism, int view2Parallelism, Duration pairTimeout,
        double cropScaleMin, String output, DatasetFormat format, int channels, int imageSize, float[] mean, float[] std,
        int backgroundNiceness)
        implements Serializable {

    private static final Logger LOG = LoggerFactory.getLogger(JobSettings.class);
    /** An image folder with labels is evaluated on every HOLD_OUT-th labelled image, the others being the bank. */
    public static final int HOLD_OUT = 5;
    /** The defaults of an image folder: RGB, 32 x 32. */
    public static final int FOLDER_CHANNELS = 3;
    public static final int FOLDER_SIZE = 32;
    private static final float[] GRAY_MEAN = {0.5f};
    private static final float[] GRAY_STD = {0.5f};
    /** Default warm-up of the schedules that never end (constant, cosine-restarts). */
    public static final long UNBOUNDED_WARMUP_STEPS = 200;

    public static JobSettings from(Configuration conf) {
        EncoderKind kind = EncoderKind.parse(SiamstreamOptions.ENCODER.key(), conf.get(SiamstreamOptions.ENCODER));
        // Kafka's sequence numbers (partition, offset) have gaps, so sequence batching would wait for ever there.
        boolean kafka = conf.get(SiamstreamOptions.SOURCE_KIND).trim().equalsIgnoreCase("kafka");
        String batching = conf.getOptional(SiamstreamOptions.BATCHING).orElse(kafka ? "arrival" : "sequence")
                .trim().toLowerCase(Locale.ROOT);
        if (kafka && batching.equals("sequence")) {
            throw new IllegalArgumentException(SiamstreamOptions.BATCHING.key() + ": 'sequence' is not allowed with "
                    + SiamstreamOptions.SOURCE_KIND.key() + " kafka (offsets have gaps); allowed values: arrival");
        }
        if (!batching.equals("sequence") && !batching.equals("arrival")) {
            throw new IllegalArgumentException(SiamstreamOptions.BATCHING.key() + ": '" + batching
                    + "' is not allowed; allowed values: sequence, arrival");
        }
        positive(SiamstreamOptions.VIEW1_PARALLELISM.key(), conf.get(SiamstreamOptions.VIEW1_PARALLELISM));
        positive(SiamstreamOptions.VIEW2_PARALLELISM.key(), conf.get(SiamstreamOptions.VIEW2_PARALLELISM));
        DatasetFormat format = DatasetFormat.parse(SiamstreamOptions.FORMAT.key(), conf.get(SiamstreamOptions.FORMAT));
        String data = conf.get(SiamstreamOptions.DATA).trim();
        if (data.isEmpty() || (data.equals("bundled") && format != DatasetFormat.FASHION_MNIST)) {
            throw new IllegalArgumentException(SiamstreamOptions.DATA.key() + ": '" + data + "' is not allowed for "
                    + SiamstreamOptions.FORMAT.key() + " " + format + "; allowed: a directory"
                    + (format == DatasetFormat.FASHION_MNIST ? " or 'bundled'" : " (only fashion-mnist has a bundled sample)"));
        }
        int channels = shape(conf, SiamstreamOptions.CHANNELS, format, switch (format) {
            case FASHION_MNIST -> 1;
            case CIFAR10 -> Cifar10.CHANNELS;
            case IMAGE_FOLDER -> FOLDER_CHANNELS;
        });
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException(SiamstreamOptions.CHANNELS.key() + ": " + channels
                    + " is not allowed; allowed values: 1, 3");
        }
        int size = shape(conf, SiamstreamOptions.IMAGE_SIZE, format, switch (format) {
            case FASHION_MNIST -> FashionMnist.SIDE;
            case CIFAR10 -> Cifar10.SIDE;
            case IMAGE_FOLDER -> FOLDER_SIZE;
        });
        if (size < 8 || size > 1024) {
            throw new IllegalArgumentException(SiamstreamOptions.IMAGE_SIZE.key() + ": " + size
                    + " is out of range; allowed: 8 to 1024");
        }
        float[] mean = stats(conf, SiamstreamOptions.MEAN, channels, switch (format) {
            case FASHION_MNIST -> ViewPolicies.FASHION_MNIST_MEAN;
            case CIFAR10 -> Cifar10.MEAN;
            case IMAGE_FOLDER -> channels == 3 ? ViewPolicies.IMAGENET_MEAN : GRAY_MEAN;
        }, false);
        float[] std = stats(conf, SiamstreamOptions.STD, channels, switch (format) {
            case FASHION_MNIST -> ViewPolicies.FASHION_MNIST_STD;
            case CIFAR10 -> Cifar10.STD;
            case IMAGE_FOLDER -> channels == 3 ? ViewPolicies.IMAGENET_STD : GRAY_STD;
        }, true);
        MethodConfig method = method(conf);
        HeadConfig heads = kind == EncoderKind.CONVNET ? method.smallHeads() : method.paperHeads();
        int poolGrid = conf.get(SiamstreamOptions.POOL_GRID);
        if (poolGrid < 1 || poolGrid > EncoderConfig.MAX_POOL_GRID) {
            throw new IllegalArgumentException(SiamstreamOptions.POOL_GRID.key() + ": " + poolGrid
                    + " is out of range; allowed: 1 to " + EncoderConfig.MAX_POOL_GRID);
        }
        LearnerConfig learner = new LearnerConfig(method, new EncoderConfig(kind, channels, 1.0, poolGrid), heads,
                channels, size,
                conf.get(SiamstreamOptions.BATCH_SIZE),
                schedule(conf, optimizer(conf, method), kafka, format, data, channels, size),
                conf.get(SiamstreamOptions.SEED), conf.get(SiamstreamOptions.DEVICE));
        return new JobSettings(data, conf.get(SiamstreamOptions.EPOCHS),
                conf.get(SiamstreamOptions.SPLITS), conf.get(SiamstreamOptions.SEED), learner, batching.equals("sequence"),
                conf.get(SiamstreamOptions.PUBLISH_EVERY), maxPendingPairs(conf, channels, size),
                conf.get(SiamstreamOptions.EVALUATE), conf.get(SiamstreamOptions.LINEAR_EVERY),
                conf.get(SiamstreamOptions.VIEW1_PARALLELISM), conf.get(SiamstreamOptions.VIEW2_PARALLELISM),
                conf.get(SiamstreamOptions.PAIR_TIMEOUT), parseCropScaleMin(conf), conf.get(SiamstreamOptions.OUTPUT),
                format, channels, size, mean, std, backgroundNiceness(conf));
    }

    static int backgroundNiceness(Configuration conf) {
        int n = conf.get(SiamstreamOptions.BACKGROUND_NICENESS);
        if (n < 0 || n > LearnerCpuPriority.MAX_NICENESS) {
            throw new IllegalArgumentException(SiamstreamOptions.BACKGROUND_NICENESS.key() + ": " + n
                    + " is out of range; allowed: 0 (off) to " + LearnerCpuPriority.MAX_NICENESS);
        }
        return n;
    }

    /** {@link SiamstreamOptions#CROP_MIN_SCALE}, or 0 where it is unset (each policy keeps its own). */
    static double parseCropScaleMin(Configuration conf) {
        Double v = conf.get(SiamstreamOptions.CROP_MIN_SCALE);
        if (v == null) {
            return 0;
        }
        if (!(v > 0 && v <= 1)) {
            throw new IllegalArgumentException(SiamstreamOptions.CROP_MIN_SCALE.key() + ": " + v
                    + " is out of range; allowed: a share of the image's area in (0, 1]");
        }
        return v;
    }

    /** How many view pairs fit in {@link SiamstreamOptions#MAX_PENDING_MEMORY}: at least 4 batches. */
    static int maxPendingPairs(Configuration conf, int channels, int size) {
        long bytes = conf.get(SiamstreamOptions.MAX_PENDING_MEMORY).getBytes();
        long pairBytes = 2L * channels * size * size * Float.BYTES + 256;  // two float views and the record around them
        int batch = conf.get(SiamstreamOptions.BATCH_SIZE);
        return (int) Math.min(Integer.MAX_VALUE, Math.max(4L * batch, bytes / pairBytes));
    }

    /** The method and its hyper-parameters; a bad value fails naming its option. */
    static MethodConfig method(Configuration conf) {
        MethodConfig method = MethodConfig.parse(SiamstreamOptions.METHOD.key(), conf.get(SiamstreamOptions.METHOD));
        try {
            if (method instanceof ByolConfig) {
                return new ByolConfig(conf.get(SiamstreamOptions.BYOL_BASE_TAU));
            } else if (method instanceof SimClrConfig) {
                return new SimClrConfig(conf.get(SiamstreamOptions.SIMCLR_TEMPERATURE));
            } else if (method instanceof MocoConfig) {
                return new MocoConfig(conf.get(SiamstreamOptions.MOCO_MOMENTUM),
                        conf.get(SiamstreamOptions.MOCO_QUEUE_SIZE), conf.get(SiamstreamOptions.MOCO_TEMPERATURE));
            }
            return method;
        } catch (IllegalArgumentException e) {
            // the records name their field as method.<name>.<field>; the job's option has the siamstream. prefix
            throw new IllegalArgumentException("siamstream." + e.getMessage(), e);
        }
    }

    /**
     * SGD or LARS: {@code auto} follows the method's paper (SGD for SimSiam and MoCo v2, LARS for BYOL and SimCLR);
     * weight decay defaults to 5e-4 with SGD and 1e-5 with LARS.
     */
    static OptimizerConfig optimizer(Configuration conf, MethodConfig method) {
        String kind = conf.get(SiamstreamOptions.OPTIMIZER).trim().toLowerCase(Locale.ROOT);
        if (kind.equals("auto")) {
            kind = method instanceof ByolConfig || method instanceof SimClrConfig ? "lars" : "sgd";
        }
        if (!kind.equals("sgd") && !kind.equals("lars")) {
            throw new IllegalArgumentException(SiamstreamOptions.OPTIMIZER.key() + ": '"
                    + conf.get(SiamstreamOptions.OPTIMIZER) + "' is not allowed; allowed values: auto, "
                    + OptimizerConfig.ALLOWED_KINDS);
        }
        boolean lars = kind.equals("lars");
        double eta = conf.get(SiamstreamOptions.LARS_ETA);
        if (lars && !(eta > 0 && eta < 1)) {
            throw new IllegalArgumentException(SiamstreamOptions.LARS_ETA.key() + ": " + eta
                    + " is not allowed; allowed: 0 < eta < 1");
        }
        double weightDecay = conf.getOptional(SiamstreamOptions.WEIGHT_DECAY).orElse(lars ? 1e-5 : 5e-4);
        OptimizerConfig base = OptimizerConfig.simSiamCifar(1).withBaseLr(conf.get(SiamstreamOptions.BASE_LR));
        try {
            return base.withWeightDecay(weightDecay).withLars(lars ? eta : 0);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("siamstream.train." + e.getMessage().replace("optimizer.", ""), e);
        }
    }

    /**
     * The learning-rate schedule (see {@link SiamstreamOptions#SCHEDULE}): bounded input (replay of a number of
     * epochs) decays along a cosine over its real length; unbounded input (endless replay, Kafka) warms up and then
     * keeps a rate that never reaches 0, so an endless run keeps learning. BYOL's tau follows the same position.
     */
    static OptimizerConfig schedule(Configuration conf, OptimizerConfig optimizer, boolean kafka, DatasetFormat format,
                                    String data, int channels, int size) {
        boolean unbounded = kafka || conf.get(SiamstreamOptions.EPOCHS) == 0;
        ScheduleKind kind = conf.getOptional(SiamstreamOptions.SCHEDULE)
                .map(v -> ScheduleKind.parse(SiamstreamOptions.SCHEDULE.key(), v))
                .orElse(conf.getOptional(SiamstreamOptions.SCHEDULE_STEPS).isPresent() || !unbounded
                        ? ScheduleKind.COSINE : ScheduleKind.CONSTANT);
        long warmup = conf.getOptional(SiamstreamOptions.WARMUP_STEPS)
                .orElse(kind == ScheduleKind.COSINE ? 0 : UNBOUNDED_WARMUP_STEPS);
        long steps = switch (kind) {
            case COSINE -> conf.getOptional(SiamstreamOptions.SCHEDULE_STEPS).orElseGet(() -> {
                if (unbounded) {
                    throw new IllegalArgumentException(SiamstreamOptions.SCHEDULE.key() + ": 'cosine' on unbounded"
                            + " input (" + (kafka ? "kafka" : SiamstreamOptions.EPOCHS.key() + " 0") + ") needs "
                            + SiamstreamOptions.SCHEDULE_STEPS.key() + "; allowed for endless input without it:"
                            + " constant, cosine-restarts");
                }
                long batches = conf.get(SiamstreamOptions.EPOCHS) * imageCount(format, data, channels, size)
                        / conf.get(SiamstreamOptions.BATCH_SIZE);
                return Math.max(batches, 1L);
            });
            case CONSTANT -> 1L;
            case COSINE_RESTARTS -> conf.get(SiamstreamOptions.RESTART_PERIOD);
        };
        try {
            return optimizer.withSchedule(kind, steps, conf.get(SiamstreamOptions.RESTART_MULTIPLIER))
                    .withWarmup(warmup);
        } catch (IllegalArgumentException e) {
            String message = e.getMessage().replace("optimizer.", "siamstream.train.");
            if (kind == ScheduleKind.COSINE_RESTARTS) {
                message = message.replace("schedule-steps", "restart-period");
            }
            throw new IllegalArgumentException(message, e);
        }
    }

    /** How many good images one epoch of the dataset replays: what the cosine's real length is counted in. */
    private static long imageCount(DatasetFormat format, String data, int channels, int size) {
        try {
            return trainSet(format, data, channels, size).load().count();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(SiamstreamOptions.DATA.key() + ": '" + data + "' cannot be read here ("
                    + e.getMessage() + ") to count the images the cosine schedule runs over; set "
                    + SiamstreamOptions.SCHEDULE_STEPS.key() + " to give its length", e);
        }
    }

    /** The configured channels or image size: free for an image folder, fixed (and checked) for the other formats. */
    private static int shape(Configuration conf, ConfigOption<Integer> option, DatasetFormat format, int fixed) {
        Integer set = conf.getOptional(option).orElse(null);
        if (set == null) {
            return fixed;
        }
        if (format != DatasetFormat.IMAGE_FOLDER && set != fixed) {
            throw new IllegalArgumentException(option.key() + ": " + set + " does not fit " + format + ", whose images"
                    + " have " + fixed + "; allowed: " + fixed + " or unset (it is only free for image-folder)");
        }
        return set;
    }

    private static float[] stats(Configuration conf, ConfigOption<List<Float>> option, int channels, float[] fallback,
                                 boolean positive) {
        List<Float> set = conf.getOptional(option).orElse(null);
        if (set == null) {
            return fallback.clone();
        }
        if (set.size() != channels) {
            throw new IllegalArgumentException(option.key() + ": " + set + " has " + set.size() + " value(s); allowed: "
                    + channels + " (one per channel, ';'-separated)");
        }
        float[] out = new float[channels];
        for (int c = 0; c < channels; c++) {
            float v = set.get(c);
            if (!Float.isFinite(v) || (positive && !(v > 0 && Float.isFinite(1f / v)))) {
                throw new IllegalArgumentException(option.key() + ": " + set + " is not allowed; allowed: finite"
                        + (positive ? " values > 0" : " values"));
            }
            out[c] = v;
        }
        return out;
    }

    /** The images the job trains on: the train split of the dataset, or the whole image folder. */
    public ReplayDataset dataset() {
        return trainSet(format, data, channels, imageSize);
    }

    private static ReplayDataset trainSet(DatasetFormat format, String data, int channels, int size) {
        return switch (format) {
            case FASHION_MNIST -> data.equals("bundled") ? ReplayDataset.bundled(FashionMnist.Split.TRAIN)
                    : ReplayDataset.fashionMnist(Path.of(data), FashionMnist.Split.TRAIN);
            case CIFAR10 -> ReplayDataset.cifar10(Path.of(data), Cifar10.Split.TRAIN);
            case IMAGE_FOLDER -> ReplayDataset.imageFolder(Path.of(data), channels, size);
        };
    }

    /**
     * The evaluation data, or null when there is none: Fashion-MNIST and CIFAR-10 use the train split as the kNN
     * bank and the test split as queries; an image folder with at least two class folders holds every
     * {@value #HOLD_OUT}-th labelled image out as a query; an unlabelled folder (or one this client cannot list) is
     * not evaluated, which is logged. (Whether the job evaluates at all is {@link #evaluate()}.)
     */
    public SerializableSupplier<EvaluationSet> evaluation() {
        return switch (format) {
            case FASHION_MNIST -> new FashionMnistEvaluation(data.equals("bundled") ? null : data, mean[0], std[0]);
            case CIFAR10 -> DatasetEvaluation.splits(ReplayDataset.cifar10(Path.of(data), Cifar10.Split.TRAIN),
                    ReplayDataset.cifar10(Path.of(data), Cifar10.Split.TEST), mean, std, Cifar10.CLASS_NAMES.length);
            case IMAGE_FOLDER -> folderEvaluation();
        };
    }

    private SerializableSupplier<EvaluationSet> folderEvaluation() {
        ImageFolder.Listing listing;
        try {
            listing = ImageFolder.list(Path.of(data));
        } catch (IOException e) {
            LOG.warn("evaluation off: the image folder {} cannot be listed here ({})", data, e.getMessage());
            return null;
        }
        if (listing.classes().size() < 2 || !listing.labelled()) {
            LOG.info("evaluation off: the image folder {} has {} class folder(s); kNN evaluation needs labelled images"
                    + " of at least 2 classes (one sub-folder per class)", data, listing.classes().size());
            return null;
        }
        LOG.info("evaluation on the image folder {} itself: {} classes, every {}th labelled image a query", data,
                listing.classes().size(), HOLD_OUT);
        return DatasetEvaluation.heldOut(dataset(), HOLD_OUT, mean, std, listing.classes().size());
    }

    /** View 1's policy: BYOL's first asymmetric policy for BYOL, else {@link #policy}. */
    public ViewPolicy view1Policy() {
        return learner.method() instanceof ByolConfig ? cropped(ViewPolicies.byolView1(imageSize, mean, std)) : policy();
    }

    /** View 2's policy: BYOL's second, asymmetric policy (less blur, some solarisation); the others use {@link #policy}. */
    public ViewPolicy view2Policy() {
        return learner.method() instanceof ByolConfig ? cropped(ViewPolicies.byolView2(imageSize, mean, std)) : policy();
    }

    /**
     * The symmetric policy of SimSiam, SimCLR and MoCo v2: SimSiam's policy at the dataset's image size with its
     * statistics, the small-image recipe (no blur) up to 32 x 32 (Fashion-MNIST, CIFAR-10), the ImageNet recipe
     * (with blur) above.
     */
    public ViewPolicy policy() {
        return cropped(imageSize <= 32 ? ViewPolicies.simSiamSmall(imageSize, mean, std)
                : ViewPolicies.simSiam(imageSize, mean, std));
    }

    /** {@code policy} with {@link SiamstreamOptions#CROP_MIN_SCALE} where it is set. */
    private ViewPolicy cropped(ViewPolicy policy) {
        return cropScaleMin > 0 ? policy.withCropScaleMin(cropScaleMin) : policy;
    }

    private static void positive(String option, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(option + ": " + value + " must be at least 1");
        }
    }
}
