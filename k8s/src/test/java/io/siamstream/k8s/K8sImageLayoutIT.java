package io.siamstream.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The container images' file layout, assembled from the same build outputs the Dockerfiles COPY (no container engine
 * runs here): every COPY line of k8s/Dockerfile and k8s/Dockerfile.gpu is carried out into
 * target/image-layout/&lt;variant&gt;/, so a renamed build output or a changed destination fails here. Runs after
 * `package` (failsafe, `mvn verify`), when job/target has the user jar and lib/.
 */
class K8sImageLayoutIT {

    @ParameterizedTest
    @ValueSource(strings = {"Dockerfile", "Dockerfile.gpu"})
    void theDockerfilesCopiesMakeTheLayout(String dockerfile) throws IOException {
        Path df = Manifests.k8sDir().resolve(dockerfile);
        String flink = System.getProperty("flink.version");
        assertThat(flink).as("the build passes flink.version").isNotBlank();
        assertThat(Files.readString(df)).as("the image's Flink is the build's").contains("FROM flink:" + flink + "-scala_2.12-java17");
        Path image = ImageLayout.assemble(dockerfile);

        // lib/: DJL's API, engine, JNI, JNA, Gson; the CPU natives only in the CPU image
        Set<String> lib = names(image.resolve("opt/flink/lib"));
        assertThat(lib).anyMatch(n -> n.matches("api-0\\.35\\.1\\.jar"))
                .anyMatch(n -> n.matches("pytorch-engine-0\\.35\\.1\\.jar"))
                .anyMatch(n -> n.matches("pytorch-jni-2\\.7\\.1-0\\.35\\.1\\.jar"))
                .anyMatch(n -> n.startsWith("jna-"))
                .anyMatch(n -> n.startsWith("gson-"))
                .noneMatch(n -> n.startsWith("flink-") || n.startsWith("log4j") || n.startsWith("siamstream"));
        if (dockerfile.equals("Dockerfile")) {
            assertThat(lib).contains("pytorch-native-cpu-2.7.1-linux-x86_64.jar");
        } else {
            assertThat(lib).noneMatch(n -> n.startsWith("pytorch-native-"));
            String text = Files.readString(df);
            assertThat(text).contains("PYTORCH_LIBRARY_PATH=", "PYTORCH_VERSION=2.7.1", "PYTORCH_FLAVOR=cu128",
                    "DJL_OFFLINE=true", "plugins/external-resource-gpu");
        }
        // the pytorch-jni in lib/ carries the cu128 JNI the GPU image relies on
        Path jni = image.resolve("opt/flink/lib/pytorch-jni-2.7.1-0.35.1.jar");
        try (ZipFile zip = new ZipFile(jni.toFile())) {
            assertThat(zip.getEntry("jnilib/linux-x86_64/cu128/libdjl_torch.so")).isNotNull();
        }

        // usrlib/siamstream.jar: the job and the Kafka connector, without Flink, DJL or logging
        Path userJar = image.resolve("opt/flink/usrlib/siamstream.jar");
        assertThat(userJar).exists();
        try (ZipFile zip = new ZipFile(userJar.toFile())) {
            Set<String> entries = zip.stream().map(e -> e.getName()).collect(Collectors.toCollection(TreeSet::new));
            assertThat(entries).contains("io/siamstream/job/SiamstreamJob.class",
                    "org/apache/flink/connector/kafka/source/KafkaSource.class",
                    "org/apache/kafka/clients/consumer/KafkaConsumer.class", "META-INF/LICENSE", "META-INF/NOTICE");
            assertThat(entries).as("provided by Flink's lib/ or the lib/ set, not the user jar")
                    .noneMatch(n -> n.startsWith("ai/djl/"))
                    .noneMatch(n -> n.startsWith("org/apache/flink/")
                            && !n.startsWith("org/apache/flink/connector/kafka/")
                            && !n.startsWith("org/apache/flink/streaming/connectors/kafka/")
                            && !n.startsWith("org/apache/flink/streaming/util/serialization/")
                            && !n.endsWith("/"))
                    .noneMatch(n -> n.startsWith("org/apache/logging/") || n.startsWith("org/slf4j/"))
                    .noneMatch(n -> n.equals("log4j2.properties"));
            assertThat(new String(zip.getInputStream(zip.getEntry("META-INF/MANIFEST.MF")).readAllBytes()))
                    .contains("Main-Class: io.siamstream.job.SiamstreamJob");
        }

        // conf: the parent-first setting, the same the manifests set
        Path conf = image.resolve("opt/flink/conf/siamstream.yaml");
        assertThat(Files.readString(conf)).contains("classloader.parent-first-patterns.additional: ai.djl.");
        assertThat(Files.readString(df)).contains("cat /opt/flink/conf/siamstream.yaml >>");
    }

    private static Set<String> names(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }
}
