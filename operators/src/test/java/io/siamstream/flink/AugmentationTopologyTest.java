package io.siamstream.flink;

import static io.siamstream.flink.FlinkTestSupport.CHANNELS;
import static io.siamstream.flink.FlinkTestSupport.RUN_SEED;
import static io.siamstream.flink.FlinkTestSupport.SIZE;
import static io.siamstream.flink.FlinkTestSupport.expectedView;
import static io.siamstream.flink.FlinkTestSupport.image;
import static io.siamstream.flink.FlinkTestSupport.policy1;
import static io.siamstream.flink.FlinkTestSupport.policy2;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.siamstream.augment.ViewPolicies;
import io.siamstream.record.DeadLetter;
import io.siamstream.record.ImageRecord;
import io.siamstream.record.View;
import io.siamstream.record.ViewPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.api.java.typeutils.runtime.PojoSerializer;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The wired augmentation stage on a MiniCluster, with Kryo disabled as the job runs it. */
@SuppressWarnings("try") // the collect iterators are closed by try-with-resources
class AugmentationTopologyTest {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(1)
                    .setNumberSlotsPerTaskManager(2)
                    .build());

    @Test
    void allRecordTypesArePojosWithoutKryo() {
        SerializerConfig noKryo = FlinkTestSupport.noKryo().getSerializerConfig();
        for (Class<?> type : List.of(ImageRecord.class, View.class, ViewPair.class, DeadLetter.class)) {
            TypeInformation<?> info = TypeInformation.of(type);
            assertThat(info).as(type.getSimpleName()).isInstanceOf(PojoTypeInfo.class);
            assertThat(info.createSerializer(noKryo)).as(type.getSimpleName()).isInstanceOf(PojoSerializer.class);
        }
        assertThat(DeadLetters.TAG.getTypeInfo()).isInstanceOf(PojoTypeInfo.class);
    }

    @Test
    void pairsEveryRecordOnceWithTheViewsOfViewsMake() throws Exception {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        assertThat(env.getConfig().getSerializerConfig().hasGenericTypesDisabled()).isTrue();

        List<ImageRecord> input = new ArrayList<>(FlinkTestSupport.images(50)); // 20 images, epochs 0..2
        ImageRecord wrongShape = new ImageRecord(100, 100, 0, 1, 10, 10, new byte[100], 0);
        ImageRecord noPixels = new ImageRecord(101, 101, 0, 1, SIZE, SIZE, null, 0);
        input.add(17, wrongShape);
        input.add(33, noPixels);
        DataStream<ImageRecord> images = env.fromData(input, TypeInformation.of(ImageRecord.class));

        AugmentationTopology.Result result = AugmentationTopology.build(images, policy1(), policy2(), RUN_SEED,
                CHANNELS, SIZE, SIZE, 2, 1, Duration.ofMinutes(5));

        Map<String, Integer> parallelism = new HashMap<>();
        for (StreamNode node : env.getStreamGraph(false).getStreamNodes()) {
            if (node.getTransformationUID() != null) {
                parallelism.put(node.getTransformationUID(), node.getParallelism());
            }
        }
        assertThat(parallelism).containsEntry("augment-view1", 2).containsEntry("augment-view2", 1)
                .containsEntry("pair-views", 2);

        List<ViewPair> pairs = new ArrayList<>();
        List<DeadLetter> dead = new ArrayList<>();
        try (CloseableIterator<ViewPair> pairIt = result.pairs().collectAsync();
             CloseableIterator<DeadLetter> deadIt = result.deadLetters().collectAsync()) {
            env.executeAsync("augmentation-topology-test");
            pairIt.forEachRemaining(pairs::add);
            deadIt.forEachRemaining(dead::add);
        }

        // the two bad records leave as skip markers, so that sequence batching closes their batches without them
        assertThat(pairs).filteredOn(ViewPair::isSkipMarker).extracting(p -> p.seq, p -> p.skip)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple(100L, "augment-view1: wrong-shape"),
                        org.assertj.core.groups.Tuple.tuple(101L, "augment-view1: no-pixels"));
        pairs.removeIf(ViewPair::isSkipMarker);
        assertThat(pairs).hasSize(50);
        assertThat(pairs).extracting(p -> p.seq).doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(FlinkTestSupport.images(50).stream().map(r -> r.seq).toList());
        for (ViewPair p : pairs) {
            ImageRecord r = image(p.seq);
            assertThat(p.id).isEqualTo(r.id);
            assertThat(p.epoch).isEqualTo(r.epoch);
            assertThat(p.label).isEqualTo(r.label);
            assertThat(p.view1).as("view 1 of seq %d", p.seq).isEqualTo(expectedView(policy1(), r, 0));
            assertThat(p.view2).as("view 2 of seq %d", p.seq).isEqualTo(expectedView(policy2(), r, 1));
        }
        assertThat(dead).extracting(d -> d.stage + "/" + d.reason + "/" + d.seq).containsExactlyInAnyOrder(
                "augment-view1/wrong-shape/100", "augment-view2/wrong-shape/100",
                "augment-view1/no-pixels/101", "augment-view2/no-pixels/101");
    }

    @Test
    void thePoliciesMustMakeViewsOfOneSize() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        DataStream<ImageRecord> images = env.fromData(List.of(image(0)), TypeInformation.of(ImageRecord.class));
        assertThatThrownBy(() -> AugmentationTopology.build(images, policy1(),
                ViewPolicies.simSiamSmall(16, ViewPolicies.FASHION_MNIST_MEAN, ViewPolicies.FASHION_MNIST_STD),
                RUN_SEED, CHANNELS, SIZE, SIZE, 1, 1, Duration.ofSeconds(1)))
                .hasMessageContaining("one size");
        assertThatThrownBy(() -> AugmentationTopology.build(images, policy1(), policy2(),
                RUN_SEED, CHANNELS, SIZE, SIZE, 0, 1, Duration.ofSeconds(1)))
                .hasMessageContaining("parallelisms");
    }
}
