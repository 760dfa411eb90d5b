package io.siamstream.k8s;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.FallbackKey;

/**
 * Every configuration key Flink 1.20 knows, found the way Flink's own ConfigOptionsDocsCompletenessITCase finds
 * them: the public static ConfigOption fields of the *Options classes (flink-core's org.apache.flink.configuration,
 * the RocksDB state backend, the Prometheus reporter, native Kubernetes, ...) on the test classpath, with their
 * fallback and deprecated keys. Keys that are templates in Flink (a reporter's or an external resource's name in the
 * middle) or that a plugin or the operator reads are matched by the patterns in {@link #PATTERNS}.
 */
final class FlinkOptionKeys {

    private FlinkOptionKeys() {}

    private static final Pattern OPTION_CLASS = Pattern.compile("org/apache/flink/.*Options\\.class");

    /** The keys that may appear although no ConfigOption field spells them out, each with why. */
    static final List<Pattern> PATTERNS = List.of(
            // MetricOptions documents reporter settings as metrics.reporter.<name>.<setting> (factory.class, interval,
            // scope.*, filter.*); the Prometheus reporter adds port and filterLabelValueCharacters
            Pattern.compile("metrics\\.reporter\\.[a-zA-Z0-9_-]+\\.(factory\\.class|interval|scope\\.delimiter"
                    + "|scope\\.variables\\.additional|scope\\.variables\\.excludes|filter\\.includes|filter\\.excludes"
                    + "|port|filterLabelValueCharacters)"),
            // ExternalResourceOptions: external-resource.<name>.(amount|driver-factory.class|kubernetes.config-key|
            // yarn.config-key|param.<driver's own>); the GPU driver's parameters are discovery-script.path/.args
            Pattern.compile("external-resource\\.[a-zA-Z0-9_-]+\\.(amount|driver-factory\\.class|kubernetes\\.config-key"
                    + "|yarn\\.config-key|param\\.discovery-script\\.path|param\\.discovery-script\\.args)"),
            // the s3 file system plugins pass every s3.* key on to their Hadoop/Presto S3 client
            Pattern.compile("s3\\.[a-z0-9.-]+"),
            // settings of the Flink Kubernetes Operator (its KubernetesOperatorConfigOptions are not in the api jar):
            // only the ones these manifests use, as the operator 1.10 documents them
            Pattern.compile("kubernetes\\.operator\\.(savepoint\\.history\\.max\\.count|periodic\\.savepoint\\.interval"
                    + "|job\\.upgrade\\.last-state-fallback\\.enabled|savepoint\\.history\\.max\\.age)"));

    private static Set<String> keys;

    static synchronized Set<String> keys() {
        if (keys == null) {
            keys = scan();
        }
        return keys;
    }

    static boolean known(String key) {
        return keys().contains(key) || PATTERNS.stream().anyMatch(p -> p.matcher(key).matches());
    }

    private static Set<String> scan() {
        Set<String> out = new TreeSet<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.endsWith(".jar") || !new File(entry).getName().startsWith("flink-")) {
                continue;
            }
            try (JarFile jar = new JarFile(entry)) {
                for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                    String name = e.nextElement().getName();
                    if (OPTION_CLASS.matcher(name).matches() && !name.contains("/shaded/")) {
                        collect(name.substring(0, name.length() - ".class".length()).replace('/', '.'), out);
                    }
                }
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
        }
        return out;
    }

    private static void collect(String className, Set<String> out) {
        Class<?> type;
        try {
            type = Class.forName(className, true, FlinkOptionKeys.class.getClassLoader());
        } catch (Throwable e) {
            return; // a class whose dependencies are not here (e.g. YARN, Python): none of its keys is used
        }
        for (Field field : type.getFields()) {
            if (!Modifier.isStatic(field.getModifiers()) || !ConfigOption.class.isAssignableFrom(field.getType())) {
                continue;
            }
            try {
                ConfigOption<?> option = (ConfigOption<?>) field.get(null);
                out.add(option.key());
                for (FallbackKey fallback : option.fallbackKeys()) {
                    out.add(fallback.getKey());
                }
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
