package io.siamstream.job;

import io.siamstream.augment.ViewPolicies;
import io.siamstream.augment.ViewPolicy;
import io.siamstream.method.SimSiamConfig;
import io.siamstream.model.EncoderConfig;
import io.siamstream.model.EncoderKind;
import io.siamstream.model.HeadConfig;
import io.siamstream.train.LearnerConfig;
import io.siamstream.train.OptimizerConfig;
import java.io.Serializable;
import java.time.Duration;
import java.util.Locale;
import org.apache.flink.configuration.Configuration;

/** The validated settings of one job, read from a Flink {@link Configuration}; bad values fail here, naming the option. */
public record JobSettings(
        String data, long epochs, int splits, long seed, LearnerConfig learner, boolean sequenceBatching,
        int publishEvery, int linearEvery, int view1Parallelism, int view2Parallelism, Duration pairTimeout,
        String output) implements Serializable {

    public static JobSettings from(Configuration conf) {
        EncoderKind kind = EncoderKind.parse(SiamstreamOptions.ENCODER.key(), conf.get(SiamstreamOptions.ENCODER));
        String batching = conf.get(SiamstreamOptions.BATCHING).trim().toLowerCase(Locale.ROOT);
        if (!batching.equals("sequence") && !batching.equals("arrival")) {
            throw new IllegalArgumentException(SiamstreamOptions.BATCHING.key() + ": '" + batching
                    + "' is not allowed; allowed values: sequence, arrival");
        }
        positive(SiamstreamOptions.VIEW1_PARALLELISM.key(), conf.get(SiamstreamOptions.VIEW1_PARALLELISM));
        positive(SiamstreamOptions.VIEW2_PARALLELISM.key(), conf.get(SiamstreamOptions.VIEW2_PARALLELISM));
        HeadConfig heads = kind == EncoderKind.CONVNET ? HeadConfig.small() : HeadConfig.simSiamPaper();
        LearnerConfig learner = new LearnerConfig(SimSiamConfig.paper(), new EncoderConfig(kind, 1, 1.0), heads, 1, 28,
                conf.get(SiamstreamOptions.BATCH_SIZE),
                OptimizerConfig.simSiamCifar(conf.get(SiamstreamOptions.SCHEDULE_STEPS))
                        .withBaseLr(conf.get(SiamstreamOptions.BASE_LR)),
                conf.get(SiamstreamOptions.SEED), conf.get(SiamstreamOptions.DEVICE));
        return new JobSettings(conf.get(SiamstreamOptions.DATA), conf.get(SiamstreamOptions.EPOCHS),
                conf.get(SiamstreamOptions.SPLITS), conf.get(SiamstreamOptions.SEED), learner, batching.equals("sequence"),
                conf.get(SiamstreamOptions.PUBLISH_EVERY), conf.get(SiamstreamOptions.LINEAR_EVERY),
                conf.get(SiamstreamOptions.VIEW1_PARALLELISM), conf.get(SiamstreamOptions.VIEW2_PARALLELISM),
                conf.get(SiamstreamOptions.PAIR_TIMEOUT), conf.get(SiamstreamOptions.OUTPUT));
    }

    /** Both views use SimSiam's small-image policy at 28 x 28 (Fashion-MNIST statistics). */
    public ViewPolicy policy() {
        return ViewPolicies.fashionMnist();
    }

    private static void positive(String option, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(option + ": " + value + " must be at least 1");
        }
    }
}
