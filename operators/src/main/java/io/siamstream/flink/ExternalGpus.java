package io.siamstream.flink;

import ai.djl.Device;
import io.siamstream.train.DeviceSelection;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.metrics.MetricGroup;
import org.slf4j.Logger;

/**
 * The GPUs that Flink's external resource framework assigned to this TaskManager, and the device an operator takes
 * from them. With {@code external-resources: gpu} and Flink's GPU plugin
 * ({@code external-resource.gpu.driver-factory.class: org.apache.flink.externalresource.gpu.GPUDriverFactory},
 * {@code external-resource.gpu.amount: 1}) every task of the TaskManager sees the GPUs in
 * {@code getRuntimeContext().getExternalResourceInfos("gpu")}, each with its {@code index} property. The rule
 * (explicit {@code gpu:N} first, then those GPUs, then the engine's default, then the CPU) is the core's
 * {@link DeviceSelection}; this class only reads the infos, logs the choice and exposes it as metrics.
 *
 * <p>Note: Flink 1.20's MiniCluster gives its tasks no external resources (it passes
 * {@code ExternalResourceInfoProvider.NO_EXTERNAL_RESOURCES}); only a real TaskManager (TaskManagerRunner) loads
 * the drivers, from plugins.
 */
public final class ExternalGpus {

    /** The external resource name the job reads, as in Flink's documentation and GPU plugin. */
    public static final String RESOURCE = "gpu";
    /** Gauge: the chosen device as text, e.g. {@code gpu(3)} or {@code cpu()}. */
    public static final String DEVICE_GAUGE = "device";
    /** Gauge: the chosen GPU's index, -1 for the CPU. */
    public static final String DEVICE_INDEX_GAUGE = "deviceIndex";

    private ExternalGpus() {}

    /** The {@code index} properties of the TaskManager's {@value #RESOURCE} resources, sorted; empty when none. */
    public static List<Integer> indices(RuntimeContext context) {
        Set<ExternalResourceInfo> infos = context.getExternalResourceInfos(RESOURCE);
        List<Integer> out = new ArrayList<>();
        for (ExternalResourceInfo info : infos == null ? Set.<ExternalResourceInfo>of() : infos) {
            Optional<String> index = info.getProperty("index");
            if (index.isEmpty()) {
                throw new IllegalStateException("external resource '" + RESOURCE + "' info " + info
                        + " has no 'index' property (keys " + info.getKeys() + ")");
            }
            try {
                out.add(Integer.parseInt(index.get().trim()));
            } catch (NumberFormatException e) {
                throw new IllegalStateException("external resource '" + RESOURCE + "' reports GPU index '"
                        + index.get() + "', which is not a number", e);
            }
        }
        out.sort(null);
        return out;
    }

    /**
     * The device for {@code option} in this task: decided from the TaskManager's GPUs by {@link DeviceSelection},
     * logged, and exposed as the gauges {@value #DEVICE_GAUGE} and {@value #DEVICE_INDEX_GAUGE} of {@code metrics}.
     * Allocates nothing on the device.
     */
    public static Device choose(String option, RuntimeContext context, MetricGroup metrics, Logger log, String what) {
        List<Integer> gpus = indices(context);
        Device device = DeviceSelection.resolve(option, gpus);
        if (gpus.size() > 1 && device.isGpu()) {
            log.warn("{} (subtask {}): {} '{}' chose {} of the TaskManager's GPUs {}; the others stay unused by it"
                            + " (one training slot per GPU)", what, context.getTaskInfo().getIndexOfThisSubtask(),
                    DeviceSelection.OPTION, option, device, gpus);
        }
        log.info("{} (subtask {}) runs on {}: {} '{}', external resource '{}' GPUs {}", what,
                context.getTaskInfo().getIndexOfThisSubtask(), device, DeviceSelection.OPTION, option, RESOURCE, gpus);
        String text = device.toString();
        int index = DeviceSelection.index(device);
        metrics.gauge(DEVICE_GAUGE, () -> text);
        metrics.gauge(DEVICE_INDEX_GAUGE, () -> index);
        return device;
    }
}
