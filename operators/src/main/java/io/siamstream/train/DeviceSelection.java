package io.siamstream.train;

import ai.djl.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntSupplier;

/**
 * Resolves the {@code train.device} option: {@code auto}, {@code cpu}, {@code gpu} or {@code gpu:N}. The trainer, the
 * evaluation and the embedding all resolve it here, with one rule:
 * <ol>
 *   <li>{@code cpu} is the CPU, and an explicit {@code gpu:N} is GPU N, whatever else is known;</li>
 *   <li>{@code auto} and {@code gpu} take the first GPU that the runtime assigned to this worker (the indices
 *       of Flink's external resource {@code gpu}, handed in by the Flink operators: the core knows no Flink);</li>
 *   <li>without assigned GPUs, {@code auto} takes the engine's first GPU when it finds one, else the CPU, and
 *       {@code gpu} takes GPU 0.</li>
 * </ol>
 * The decision itself allocates nothing; {@link #requireAvailable} checks, before a manager is made on the device,
 * that the engine can use it.
 */
public final class DeviceSelection {

    public static final String OPTION = "train.device";

    private DeviceSelection() {}

    /** Fails at start, naming the option and the allowed values, for a malformed value. */
    public static void validate(String value) {
        decide(value, List.of(), () -> -1);
    }

    /** {@link #resolve(String, List)} without GPUs assigned by the runtime: the device outside Flink. */
    public static Device resolve(String value) {
        return resolve(value, List.of());
    }

    /**
     * The device for {@code value} given the GPU indices that the runtime assigned to this worker (empty when none;
     * in Flink the {@code index} properties of {@code getExternalResourceInfos("gpu")}). The engine is asked how many
     * GPUs it finds only where the rule needs it (auto without assigned GPUs, and to check an explicit gpu:N).
     */
    public static Device resolve(String value, List<Integer> externalGpuIndices) {
        return decide(value, externalGpuIndices, () -> Engines.pyTorch().getGpuCount());
    }

    /**
     * The rule as a pure function. {@code engineGpuCount} is consulted only when it matters; a negative count means
     * unknown (no check).
     */
    public static Device decide(String value, List<Integer> externalGpuIndices, IntSupplier engineGpuCount) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        List<Integer> external = sortedIndices(externalGpuIndices);
        if (v.equals("cpu")) {
            return Device.cpu();
        }
        if (v.matches("gpu:\\d+")) {
            int index = Integer.parseInt(v.substring(4));
            int count = engineGpuCount.getAsInt();
            if (count >= 0 && index >= count) {
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "%s: '%s' asks for GPU %d but the engine finds %d GPU(s); use auto or cpu",
                        OPTION, value, index, count));
            }
            return Device.gpu(index);
        }
        if (v.equals("auto") || v.equals("gpu")) {
            if (!external.isEmpty()) {
                return Device.gpu(external.get(0));
            }
            if (v.equals("gpu")) {
                return Device.gpu(0);
            }
            return engineGpuCount.getAsInt() > 0 ? Device.gpu(0) : Device.cpu();
        }
        throw new IllegalArgumentException(OPTION + ": '" + value + "' is not allowed; allowed values: auto, cpu, gpu, gpu:N");
    }

    /**
     * Fails with a message that says what to do when the engine cannot use {@code device} (a GPU on an engine with
     * CPU natives, or an index past the GPUs this process sees). Called before a manager is made on the device.
     */
    public static void requireAvailable(Device device, String option, int engineGpuCount) {
        if (!device.isGpu() || device.getDeviceId() < engineGpuCount) {
            return;
        }
        String chosen = option == null ? "the device " + device + " was chosen"
                : String.format(Locale.ROOT, "%s '%s' chose %s", OPTION, option, device);
        throw new IllegalStateException(String.format(Locale.ROOT,
                "%s, but the PyTorch engine finds %d GPU(s) in this process: it runs DJL's CPU natives (a GPU"
                        + " TaskManager needs libtorch for CUDA: PYTORCH_LIBRARY_PATH, PYTORCH_VERSION, PYTORCH_FLAVOR),"
                        + " or CUDA_VISIBLE_DEVICES hides that GPU; set %s to cpu to run on the CPU",
                chosen, engineGpuCount, OPTION));
    }

    /** {@link #requireAvailable(Device, String, int)} against the engine of this process. */
    public static void requireAvailable(Device device, String option) {
        if (device.isGpu()) {
            requireAvailable(device, option, Engines.pyTorch().getGpuCount());
        }
    }

    /** The device's index for a metric: the GPU's, -1 for the CPU. */
    public static int index(Device device) {
        return device.isGpu() ? device.getDeviceId() : -1;
    }

    private static List<Integer> sortedIndices(List<Integer> indices) {
        List<Integer> out = new ArrayList<>(indices == null ? List.of() : indices);
        for (Integer i : out) {
            if (i == null || i < 0) {
                throw new IllegalArgumentException("GPU index " + i + " assigned by the runtime is not an index");
            }
        }
        out.sort(null);
        return out;
    }
}
