package io.siamstream.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import io.siamstream.job.FaultTolerance;
import io.siamstream.job.JobSettings;
import io.siamstream.job.KafkaSettings;
import io.siamstream.job.SiamstreamJob;
import io.siamstream.job.SiamstreamOptions;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The FlinkDeployment manifests in k8s/: valid against the operator's CRD (strictly: no unknown field), every job
 * option accepted by the job's own validation, every Flink key a real Flink 1.20 option, and the operator's rules
 * for last-state upgrades, savepoints and HA met.
 */
class K8sManifestTest {

    private static JsonSchema schema;

    @BeforeAll
    static void schema() {
        schema = Manifests.validator();
    }

    static List<String> manifests() {
        return Manifests.DEPLOYMENTS;
    }

    private static JsonNode manifest(String name) {
        return Manifests.read(Manifests.k8sDir().resolve(name));
    }

    private static Map<String, String> flinkConfiguration(JsonNode manifest) {
        Map<String, String> conf = new LinkedHashMap<>();
        manifest.path("spec").path("flinkConfiguration").fields()
                .forEachRemaining(e -> conf.put(e.getKey(), e.getValue().asText()));
        return conf;
    }

    /** The job args as key/value pairs, in order; fails on anything that is not {@code --key value}. */
    private static Map<String, String> jobArgs(JsonNode manifest) {
        List<String> args = new ArrayList<>();
        manifest.path("spec").path("job").path("args").forEach(a -> args.add(a.asText()));
        assertThat(args.size() % 2).as("job.args must be --key value pairs: %s", args).isZero();
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < args.size(); i += 2) {
            assertThat(args.get(i)).as("job.args[%d]", i).startsWith("--");
            assertThat(out.put(args.get(i).substring(2), args.get(i + 1))).as("%s given twice", args.get(i)).isNull();
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("manifests")
    void validatesAgainstTheOperatorsCrd(String name) {
        assertThat(Manifests.validate(schema, manifest(name))).as(name).isEmpty();
    }

    @Test
    void brokenManifestsFailNamingThePath() {
        ObjectNode unknown = (ObjectNode) manifest("flinkdeployment-cpu.yaml");
        ((ObjectNode) unknown.path("spec").path("job")).put("upgradeMod", "last-state");
        assertThat(Manifests.validate(schema, unknown))
                .anySatisfy(m -> assertThat(m).contains("$.spec.job").contains("upgradeMod"));

        ObjectNode wrongType = (ObjectNode) manifest("flinkdeployment-cpu.yaml");
        ((ObjectNode) wrongType.path("spec").path("job")).put("parallelism", "two");
        assertThat(Manifests.validate(schema, wrongType))
                .anySatisfy(m -> assertThat(m).contains("$.spec.job.parallelism").contains("integer"));

        ObjectNode badMode = (ObjectNode) manifest("flinkdeployment-cpu.yaml");
        ((ObjectNode) badMode.path("spec").path("job")).put("upgradeMode", "last_state");
        assertThat(Manifests.validate(schema, badMode))
                .anySatisfy(m -> assertThat(m).contains("$.spec.job.upgradeMode").contains("enum"));

        // flinkConfiguration is a map of strings: an unquoted number is refused by the API server, and here
        ObjectNode number = (ObjectNode) manifest("flinkdeployment-cpu.yaml");
        ((ObjectNode) number.path("spec").path("flinkConfiguration")).put("taskmanager.numberOfTaskSlots", 1);
        assertThat(Manifests.validate(schema, number))
                .anySatisfy(m -> assertThat(m).contains("$.spec.flinkConfiguration.taskmanager.numberOfTaskSlots"));

        ObjectNode deepUnknown = (ObjectNode) manifest("flinkdeployment-gpu.yaml");
        ((ObjectNode) deepUnknown.path("spec").path("taskManager").path("podTemplate").path("spec"))
                .put("toleration", "typo");
        assertThat(Manifests.validate(schema, deepUnknown))
                .anySatisfy(m -> assertThat(m).contains("$.spec.taskManager.podTemplate.spec").contains("toleration"));
    }

    @ParameterizedTest
    @MethodSource("manifests")
    void jobOptionsPassTheJobsOwnValidation(String name) {
        JsonNode manifest = manifest(name);
        Map<String, String> args = jobArgs(manifest);
        Set<String> known = new TreeSet<>();
        for (Field f : SiamstreamOptions.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && ConfigOption.class.isAssignableFrom(f.getType())) {
                try {
                    known.add(((ConfigOption<?>) f.get(null)).key());
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        args.forEach((key, value) -> {
            assertThat(known).as("%s: job.args key --%s is no SiamstreamOptions key", name, key).contains(key);
            // Flink passes job args as they are: nothing expands ${VAR} or $(VAR) in them
            assertThat(value).as("%s: --%s", name, key).doesNotContain("${").doesNotContain("$(");
        });
        // siamstream.* keys in flinkConfiguration must be job options too
        flinkConfiguration(manifest).keySet().stream().filter(k -> k.startsWith(SiamstreamJob.OPTION_PREFIX))
                .filter(k -> !k.startsWith(KafkaSettings.CLIENT_PROPERTIES_PREFIX))
                .forEach(k -> assertThat(known).as("%s: flinkConfiguration key %s is no SiamstreamOptions key", name, k)
                        .contains(k));

        // as SiamstreamJob.main does: the cluster's siamstream.* keys, overridden by the args
        Configuration conf = SiamstreamJob.options(Configuration.fromMap(args),
                Configuration.fromMap(flinkConfiguration(manifest)));
        assertThatCode(() -> {
            FaultTolerance.validate(conf);
            JobSettings.from(conf);
            KafkaSettings.from(conf);
        }).as(name).doesNotThrowAnyException();
        // FaultTolerance.apply validates the cluster's configuration too
        assertThatCode(() -> FaultTolerance.validate(Configuration.fromMap(flinkConfiguration(manifest))))
                .as(name).doesNotThrowAnyException();
    }

    @Test
    void theJobsValidationIsReallyCalled() {
        Configuration bad = Configuration.fromMap(Map.of("siamstream.source.kind", "kafka",
                "siamstream.kafka.bootstrap-servers", "k:9092", "siamstream.train.batching", "sequence"));
        assertThatCode(() -> JobSettings.from(bad)).hasMessageContaining("siamstream.train.batching");
    }

    @ParameterizedTest
    @MethodSource("manifests")
    void everyFlinkKeyIsAFlinkOption(String name) {
        assertThat(FlinkOptionKeys.keys()).as("the scan found Flink's options")
                .contains("state.backend.type", "state.checkpoints.dir", "high-availability.type",
                        "kubernetes.jobmanager.entrypoint.args", "state.backend.rocksdb.memory.managed");
        List<String> unknown = new ArrayList<>();
        flinkConfiguration(manifest(name)).keySet().forEach(key -> {
            // the job's own options are checked against SiamstreamOptions and the job's validation above
            if (!key.startsWith(SiamstreamJob.OPTION_PREFIX) && !FlinkOptionKeys.known(key)) {
                unknown.add(key);
            }
        });
        assertThat(unknown).as("%s: keys that are no Flink 1.20 option", name).isEmpty();
        assertThat(FlinkOptionKeys.known("taskmanager.numberOfTaskSlot")).as("a typo is caught").isFalse();
        assertThat(FlinkOptionKeys.known("metrics.reporter.prom.factory.klass")).isFalse();
    }

    @ParameterizedTest
    @MethodSource("manifests")
    void operatorRulesHold(String name) throws Exception {
        JsonNode m = manifest(name);
        Map<String, String> conf = flinkConfiguration(m);
        JsonNode job = m.path("spec").path("job");
        assertThat(job.path("jarURI").asText()).isEqualTo("local:///opt/flink/usrlib/siamstream.jar");
        assertThat(m.path("spec").path("mode").asText("native")).isEqualTo("native");
        String upgradeMode = job.path("upgradeMode").asText("stateless");
        // the operator 1.10 is built on Flink 1.19 and reads these keys (Flink 1.20 accepts them as fallback keys)
        if (upgradeMode.equals("last-state")) {
            assertThat(conf).as("%s: last-state needs a checkpoint directory and HA", name)
                    .containsKey("state.checkpoints.dir");
        }
        if (!upgradeMode.equals("stateless")) {
            assertThat(conf).as("%s: savepoints need a directory", name).containsKey("state.savepoints.dir");
        }
        assertThat(upgradeMode).isEqualTo("last-state");
        assertThat(conf).containsEntry("high-availability.type", "kubernetes");
        assertThat(conf.get("high-availability.storageDir")).startsWith("s3://");
        assertThat(conf.get("state.checkpoints.dir")).startsWith("s3://");
        assertThat(conf.get("state.savepoints.dir")).startsWith("s3://");
        assertThat(conf).containsEntry("state.backend.type", "rocksdb")
                .containsEntry("execution.checkpointing.incremental", "true")
                .containsEntry("taskmanager.numberOfTaskSlots", "1")
                .containsEntry("classloader.parent-first-patterns.additional", "ai.djl.")
                .containsKey("restart-strategy.type");

        // the s3 plugin is enabled in every pod, and the Prometheus port is exposed where the reporter listens
        JsonNode container = m.path("spec").path("podTemplate").path("spec").path("containers").get(0);
        assertThat(container.path("name").asText()).isEqualTo("flink-main-container");
        List<String> plugins = new ArrayList<>();
        container.path("env").forEach(e -> {
            if (e.path("name").asText().equals("ENABLE_BUILT_IN_PLUGINS")) {
                plugins.add(e.path("value").asText());
            }
        });
        // the image's own plugin jar, named by its Flink version
        String flink = System.getProperty("flink.version").replace(".", "\\.");
        assertThat(plugins).singleElement().asString().matches("flink-s3-fs-(hadoop|presto)-" + flink + "\\.jar");
        container.path("env").forEach(e -> {
            if (!e.has("value")) {
                assertThat(e.path("valueFrom").path("secretKeyRef").path("name").asText()).isNotEmpty();
            }
        });
        List<Integer> ports = new ArrayList<>();
        container.path("ports").forEach(p -> ports.add(p.path("containerPort").asInt()));
        assertThat(ports).contains(Integer.parseInt(conf.get("metrics.reporter.prom.port")));
        Class.forName(conf.get("metrics.reporter.prom.factory.class"));

        if (name.contains("gpu")) {
            assertThat(conf).containsEntry("external-resources", "gpu")
                    .containsEntry("external-resource.gpu.driver-factory.class",
                            "org.apache.flink.externalresource.gpu.GPUDriverFactory")
                    .containsKey("external-resource.gpu.param.discovery-script.path");
            JsonNode tm = m.path("spec").path("taskManager").path("podTemplate").path("spec");
            JsonNode limits = tm.path("containers").get(0).path("resources").path("limits");
            assertThat(limits.path("nvidia.com/gpu").asText()).isEqualTo(conf.get("external-resource.gpu.amount"));
            assertThat(tm.path("tolerations").toString()).contains("nvidia.com/gpu");
            assertThat(jobArgs(m)).containsEntry("siamstream.train.device", "gpu");
        } else {
            assertThat(jobArgs(m)).containsEntry("siamstream.train.background-niceness", "19");
        }
    }

    /** Both images give the allocators the settings the build's own JVMs run with (the pom's properties). */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"Dockerfile", "Dockerfile.gpu"})
    void imagesSetThePomsAllocatorSettings(String dockerfile) throws java.io.IOException {
        String pom = java.nio.file.Files.readString(Manifests.repoRoot().resolve("pom.xml"));
        String image = java.nio.file.Files.readString(Manifests.k8sDir().resolve(dockerfile));
        for (String[] setting : new String[][] {{"siamstream.jemalloc.conf", "MALLOC_CONF"},
                {"siamstream.glibc.tunables", "GLIBC_TUNABLES"}}) {
            java.util.regex.Matcher property = java.util.regex.Pattern
                    .compile("<" + java.util.regex.Pattern.quote(setting[0]) + ">([^<]+)</").matcher(pom);
            assertThat(property.find()).as("pom.xml property %s", setting[0]).isTrue();
            assertThat(image).as("%s sets %s as pom.xml's %s", dockerfile, setting[1], setting[0])
                    .containsPattern("(?m)^\\s*(ENV\\s+)?" + setting[1] + "="
                            + java.util.regex.Pattern.quote(property.group(1)) + "(\\s|$)");
        }
    }
}
