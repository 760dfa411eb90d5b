package io.siamstream.flink;

import io.siamstream.augment.Image;
import io.siamstream.augment.ViewPolicies;
import io.siamstream.augment.ViewPolicy;
import io.siamstream.augment.Views;
import io.siamstream.record.DeadLetter;
import io.siamstream.record.ImageRecord;
import io.siamstream.record.View;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import org.apache.flink.api.common.ExecutionConfig;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.metrics.groups.InternalOperatorMetricGroup;
import org.apache.flink.runtime.metrics.groups.UnregisteredMetricGroups;
import org.apache.flink.runtime.metrics.util.InterceptingOperatorMetricGroup;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;

/** Small images, two policies, harness environments without Kryo and with readable operator metrics. */
final class FlinkTestSupport {

    static final long RUN_SEED = 42L;
    static final int CHANNELS = 1;
    static final int SIZE = 12;
    static final int VIEW_SIZE = 8;

    private FlinkTestSupport() {}

    /** SimSiam's small-image recipe for view 1 (gray, 8 x 8). */
    static ViewPolicy policy1() {
        return ViewPolicies.simSiamSmall(VIEW_SIZE, ViewPolicies.FASHION_MNIST_MEAN, ViewPolicies.FASHION_MNIST_STD);
    }

    /** BYOL's second view for view 2 (blur p 0.1, solarise p 0.2): a different policy from view 1. */
    static ViewPolicy policy2() {
        return ViewPolicies.byolView2(VIEW_SIZE, ViewPolicies.FASHION_MNIST_MEAN, ViewPolicies.FASHION_MNIST_STD);
    }

    /** A gray SIZE x SIZE image with pixels drawn from the seq; id = seq % 20 and epoch = seq / 20 (20 images). */
    static ImageRecord image(long seq) {
        byte[] pixels = new byte[CHANNELS * SIZE * SIZE];
        SplittableRandom random = new SplittableRandom(1000 + seq % 20);
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) random.nextInt(256);
        }
        return new ImageRecord(seq % 20, seq, seq / 20, CHANNELS, SIZE, SIZE, pixels, (int) (seq % 10));
    }

    static List<ImageRecord> images(int count) {
        List<ImageRecord> out = new ArrayList<>();
        for (long seq = 0; seq < count; seq++) {
            out.add(image(seq));
        }
        return out;
    }

    /** What the augmentation operator must make of {@code r}: the augment package's own answer. */
    static float[] expectedView(ViewPolicy policy, ImageRecord r, int viewIndex) {
        Image image = Image.fromUnsignedBytes(r.pixels, r.channels, r.height, r.width);
        return Views.make(policy, image, RUN_SEED, r.id, r.epoch, viewIndex);
    }

    static View expected(ViewPolicy policy, ImageRecord r, int viewIndex) {
        return new View(r.id, r.seq, r.epoch, viewIndex, r.channels, policy.outputSize(), policy.outputSize(),
                expectedView(policy, r, viewIndex), r.label);
    }

    /** A view half with recognisable data, for the pairing tests. */
    static View half(long seq, int viewIndex, float value) {
        float[] data = new float[CHANNELS * VIEW_SIZE * VIEW_SIZE];
        java.util.Arrays.fill(data, value);
        return new View(seq % 20, seq, seq / 20, viewIndex, CHANNELS, VIEW_SIZE, VIEW_SIZE, data, 3);
    }

    /** An execution config as the job runs it: generic types (Kryo) disabled. */
    static ExecutionConfig noKryo() {
        ExecutionConfig config = new ExecutionConfig();
        config.getSerializerConfig().setGenericTypes(false);
        return config;
    }

    static MockEnvironment environment(Metrics metrics) {
        return new MockEnvironmentBuilder().setMetricGroup(metrics).setExecutionConfig(noKryo()).build();
    }

    static List<DeadLetter> deadLetters(AbstractStreamOperatorTestHarness<?> harness) {
        Queue<StreamRecord<DeadLetter>> side = harness.getSideOutput(DeadLetters.TAG);
        List<DeadLetter> out = new ArrayList<>();
        if (side != null) {
            side.forEach(r -> out.add(r.getValue()));
        }
        return out;
    }

    /** A task metric group whose operator group keeps the metrics the operator registers, for reading counters. */
    static final class Metrics extends UnregisteredMetricGroups.UnregisteredTaskMetricGroup {
        private final InterceptingOperatorMetricGroup operator = new InterceptingOperatorMetricGroup();

        @Override
        public InternalOperatorMetricGroup getOrAddOperator(OperatorID operatorID, String name) {
            return operator;
        }

        /** The metric the operator registered under {@code name}, or null. */
        Object metric(String name) {
            return operator.get(name);
        }

        long count(String name) {
            Object metric = operator.get(name);
            if (!(metric instanceof Counter counter)) {
                throw new AssertionError("no counter " + name + " was registered");
            }
            return counter.getCount();
        }
    }
}
