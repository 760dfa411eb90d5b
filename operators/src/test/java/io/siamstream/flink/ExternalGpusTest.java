package io.siamstream.flink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import ai.djl.Device;
import io.siamstream.eval.EvaluationSet;
import io.siamstream.flink.testgpu.FakeGpuDriverFactory;
import io.siamstream.record.EvalReport;
import io.siamstream.record.ModelUpdate;
import io.siamstream.record.StepMetrics;
import io.siamstream.record.ViewPair;
import io.siamstream.train.Engines;
import io.siamstream.train.LearnerConfig;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.apache.flink.api.common.externalresource.ExternalResourceDriverFactory;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.core.plugin.DefaultPluginManager;
import org.apache.flink.core.plugin.PluginDescriptor;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.runtime.externalresource.ExternalResourceInfoProvider;
import org.apache.flink.runtime.externalresource.ExternalResourceUtils;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.test.util.MiniClusterWithClientResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPUs through Flink's external resource framework, without a GPU: a fake GPU driver reports GPU 3 the way Flink's
 * GPU plugin reports a GPUInfo, Flink's own code (the call a TaskManagerRunner makes) loads it from a plugin jar and
 * builds the TaskManager's resource provider from the configuration, and the operators, given that provider in
 * their environment, decide gpu(3). The decision is visible (gauges, accessor) before anything is allocated; a
 * learner made on it fails on this CPU-only engine, which shows the allocation goes through the decision.
 */
class ExternalGpusTest {

    private static final LearnerConfig AUTO = LearnerConfig.smallConvNet(4, 100, 11).withDevice("auto");

    @TempDir
    Path dir;

    /** The TaskManager's configuration for one GPU from the fake driver. */
    private static Configuration gpuConfig(int firstIndex) {
        Configuration conf = new Configuration();
        conf.setString("external-resources", "gpu");
        conf.setString("external-resource.gpu.driver-factory.class", FakeGpuDriverFactory.class.getName());
        conf.setString("external-resource.gpu.amount", "1");
        conf.setString("external-resource.gpu.param.first-index", Integer.toString(firstIndex));
        return conf;
    }

    /** The fake driver as a Flink plugin: its classes and the service file in a jar of its own. */
    private Path pluginJar() throws Exception {
        Path jar = dir.resolve("fake-gpu-plugin.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            for (String cls : List.of(FakeGpuDriverFactory.class.getName(), FakeGpuDriverFactory.class.getName() + "$Info")) {
                String entry = cls.replace('.', '/') + ".class";
                out.putNextEntry(new JarEntry(entry));
                try (InputStream in = ExternalGpusTest.class.getClassLoader().getResourceAsStream(entry)) {
                    in.transferTo(out);
                }
                out.closeEntry();
            }
            out.putNextEntry(new JarEntry("META-INF/services/" + ExternalResourceDriverFactory.class.getName()));
            out.write((FakeGpuDriverFactory.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        return jar;
    }

    /** What TaskManagerRunner does: drivers from the plugin manager, infos from the configured amounts. */
    private ExternalResourceInfoProvider taskManagerResources(int firstIndex) throws Exception {
        Configuration conf = gpuConfig(firstIndex);
        URL[] urls = {pluginJar().toUri().toURL()};
        var plugins = new DefaultPluginManager(List.of(new PluginDescriptor("fake-gpu", urls, new String[0])),
                CoreOptions.getPluginParentFirstLoaderPatterns(conf));
        return ExternalResourceUtils.createStaticExternalResourceInfoProviderFromConfig(conf, plugins);
    }

    private static MockEnvironment environment(ExternalResourceInfoProvider resources, FlinkTestSupport.Metrics metrics) {
        return new MockEnvironmentBuilder().setMetricGroup(metrics).setExecutionConfig(FlinkTestSupport.noKryo())
                .setExternalResourceInfoProvider(resources).build();
    }

    private static Object gauge(FlinkTestSupport.Metrics metrics, String name) {
        return ((Gauge<?>) metrics.metric(name)).getValue();
    }

    private static ViewPair pair(long seq) {
        SplittableRandom random = new SplittableRandom(seq);
        float[] v1 = new float[28 * 28];
        float[] v2 = new float[28 * 28];
        for (int i = 0; i < v1.length; i++) {
            v1[i] = (float) random.nextGaussian();
            v2[i] = v1[i] + 0.2f * (float) random.nextGaussian();
        }
        return new ViewPair(seq, seq, 0, 1, 28, 28, v1, v2, (int) (seq % 10));
    }

    @Test
    void flinkLoadsTheDriverFromAPluginAndReportsGpu3() throws Exception {
        Set<ExternalResourceInfo> infos = taskManagerResources(3).getExternalResourceInfos(ExternalGpus.RESOURCE);
        assertThat(infos).hasSize(1);
        ExternalResourceInfo info = infos.iterator().next();
        assertThat(info.getProperty("index")).hasValue("3");
        assertThat(info.getClass().getClassLoader()).as("loaded by the plugin's class loader, not the test's")
                .isNotSameAs(ExternalGpusTest.class.getClassLoader());
    }

    @Test
    void trainerWithAutoDecidesTheTaskManagersGpuBeforeAllocating() throws Exception {
        var metrics = new FlinkTestSupport.Metrics();
        TrainingOperator operator = new TrainingOperator(AUTO, true, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = new KeyedOneInputStreamOperatorTestHarness<Integer, ViewPair, StepMetrics>(operator, p -> 0,
                Types.INT, environment(taskManagerResources(3), metrics))) {
            h.open();
            assertThat(operator.device()).isEqualTo(Device.gpu(3));
            assertThat(gauge(metrics, ExternalGpus.DEVICE_GAUGE)).isEqualTo("gpu(3)");
            assertThat(gauge(metrics, ExternalGpus.DEVICE_INDEX_GAUGE)).isEqualTo(3);
            assertThat(operator.learnerOf(0)).as("nothing allocated yet").isNull();
            assumeThat(Engines.pyTorch().getGpuCount()).as("an engine without GPU 3").isLessThan(4);
            // the first pair makes the learner, on the decided device: this CPU-only engine refuses it
            assertThatThrownBy(() -> h.processElement(new StreamRecord<>(pair(0))))
                    .hasStackTraceContaining("train.device 'auto' chose gpu(3)");
        }
    }

    @Test
    void explicitCpuWinsOverTheTaskManagersGpuAndTrains() throws Exception {
        var metrics = new FlinkTestSupport.Metrics();
        TrainingOperator operator = new TrainingOperator(AUTO.withDevice("cpu"), true, 100,
                TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = new KeyedOneInputStreamOperatorTestHarness<Integer, ViewPair, StepMetrics>(operator, p -> 0,
                Types.INT, environment(taskManagerResources(3), metrics))) {
            h.open();
            assertThat(gauge(metrics, ExternalGpus.DEVICE_GAUGE)).isEqualTo("cpu()");
            assertThat(gauge(metrics, ExternalGpus.DEVICE_INDEX_GAUGE)).isEqualTo(-1);
            for (long seq = 0; seq < 4; seq++) {
                h.processElement(new StreamRecord<>(pair(seq)));
            }
            assertThat(h.extractOutputValues()).extracting(m -> m.step).containsExactly(1L);
            assertThat(operator.learnerOf(0).device()).isEqualTo(Device.cpu());
        }
    }

    @Test
    void withoutExternalGpusAutoTakesTheEnginesDefault() throws Exception {
        var metrics = new FlinkTestSupport.Metrics();
        TrainingOperator operator = new TrainingOperator(AUTO, true, 100, TrainingOperator.DEFAULT_MAX_CHUNK_BYTES);
        try (var h = new KeyedOneInputStreamOperatorTestHarness<Integer, ViewPair, StepMetrics>(operator, p -> 0,
                Types.INT, FlinkTestSupport.environment(metrics))) {
            h.open();
            Device expected = Engines.pyTorch().getGpuCount() > 0 ? Device.gpu(0) : Device.cpu();
            assertThat(operator.device()).isEqualTo(expected);
            assertThat(gauge(metrics, ExternalGpus.DEVICE_INDEX_GAUGE)).isEqualTo(expected.isGpu() ? 0 : -1);
        }
    }

    @Test
    void evaluatorFollowsTheSameRule() throws Exception {
        var metrics = new FlinkTestSupport.Metrics();
        EvaluationOperator operator = EvaluationOperator.standard(AUTO, () -> {
            throw new AssertionError("no evaluation data is loaded before the first update");
        }, 0);
        try (var h = new OneInputStreamOperatorTestHarness<ModelUpdate, EvalReport>(new Factory(operator),
                environment(taskManagerResources(5), metrics))) {
            h.open();
            assertThat(operator.device()).isEqualTo(Device.gpu(5));
            assertThat(gauge(metrics, ExternalGpus.DEVICE_GAUGE)).isEqualTo("gpu(5)");
        }
    }

    private static final class Factory extends SimpleOperatorFactory<EvalReport>
            implements OneInputStreamOperatorFactory<ModelUpdate, EvalReport> {
        Factory(EvaluationOperator operator) {
            super(operator);
        }
    }

    /** Records what each task of a MiniCluster job sees as external GPUs. */
    static final class SeenGpus extends RichMapFunction<Long, String> {
        @Override
        public String map(Long value) {
            return ExternalGpus.indices(getRuntimeContext()).toString();
        }
    }

    /**
     * A finding about Flink 1.20, kept as a test so that a Flink upgrade that changes it is noticed: the MiniCluster
     * starts its TaskManagers with no external resources, whatever the configuration says (MiniCluster passes
     * ExternalResourceInfoProvider.NO_EXTERNAL_RESOURCES). That is why the wiring is tested with the provider that
     * Flink's TaskManagerRunner code builds, handed to the operator's environment, and not in a MiniCluster.
     */
    @Test
    void miniClusterTasksSeeNoExternalResources() throws Exception {
        Configuration conf = gpuConfig(3);
        var cluster = new MiniClusterWithClientResource(new MiniClusterResourceConfiguration.Builder()
                .setConfiguration(conf).setNumberTaskManagers(1).setNumberSlotsPerTaskManager(1).build());
        cluster.before();
        try {
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.setParallelism(1);
            List<String> seen = new ArrayList<>();
            env.fromData(1L).map(new SeenGpus()).executeAndCollect().forEachRemaining(seen::add);
            assertThat(seen).containsExactly("[]");
        } finally {
            cluster.after();
        }
    }
}
