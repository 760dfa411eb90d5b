package io.siamstream.bench;

import java.util.Map;
import java.util.OptionalDouble;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/**
 * A Flink metric reporter that keeps every registered metric in a static map, so a benchmark that runs its
 * MiniCluster in the same JVM can read gauges (the trainer's {@code lr}, {@code nativeArrays}, the job's
 * {@code numRestarts}) while the job runs. Register it in the cluster's configuration:
 * {@code metrics.reporter.<name>.factory.class: io.siamstream.bench.InProcessMetrics$Factory} (Flink finds the factory
 * through {@code META-INF/services}; it is instantiated only where configured).
 */
public final class InProcessMetrics implements MetricReporter {

    /** The factory class name to put under {@code metrics.reporter.<name>.factory.class}. */
    public static final String FACTORY = Factory.class.getName();

    private static final AtomicLong ORDER = new AtomicLong();
    /** Full metric identifier to (metric, name, registration order); a task's metrics go when it closes. */
    private static final Map<String, Entry> METRICS = new ConcurrentHashMap<>();

    private record Entry(Metric metric, String name, long order) {}

    /** Creates the reporter; Flink calls it once per metric registry (one in a MiniCluster). */
    public static final class Factory implements MetricReporterFactory {
        @Override
        public MetricReporter createMetricReporter(Properties properties) {
            return new InProcessMetrics();
        }
    }

    @Override
    public void open(MetricConfig config) {}

    @Override
    public void close() {}

    @Override
    public void notifyOfAddedMetric(Metric metric, String metricName, MetricGroup group) {
        METRICS.put(group.getMetricIdentifier(metricName), new Entry(metric, metricName, ORDER.incrementAndGet()));
    }

    @Override
    public void notifyOfRemovedMetric(Metric metric, String metricName, MetricGroup group) {
        // a restarted task may register the same identifier before the old attempt's metrics are removed
        METRICS.computeIfPresent(group.getMetricIdentifier(metricName), (k, e) -> e.metric() == metric ? null : e);
    }

    /**
     * The value of the most recently registered gauge whose name ends with {@code suffix} and whose value is a
     * finite number; empty when there is none (e.g. the operator that defines it is not running, or this build of
     * the job has no such gauge).
     */
    public static OptionalDouble gauge(String suffix) {
        Entry best = null;
        double value = Double.NaN;
        for (Entry e : METRICS.values()) {
            if (e.name().endsWith(suffix) && e.metric() instanceof Gauge<?> g && (best == null || e.order() > best.order())) {
                Object v;
                try {
                    v = g.getValue();
                } catch (RuntimeException ex) {
                    continue; // a gauge of a task that is closing
                }
                if (v instanceof Number n && Double.isFinite(n.doubleValue())) {
                    best = e;
                    value = n.doubleValue();
                }
            }
        }
        return best == null ? OptionalDouble.empty() : OptionalDouble.of(value);
    }

    /** Whether a metric whose name ends with {@code suffix} has been registered (and not removed). */
    public static boolean registered(String suffix) {
        return METRICS.values().stream().anyMatch(e -> e.name().endsWith(suffix));
    }
}
