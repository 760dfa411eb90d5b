package io.siamstream.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.Locale;

/** Resolves the {@code train.device} option: {@code auto} (the GPU when the engine finds one), {@code cpu}, {@code gpu} or {@code gpu:N}. */
public final class DeviceSelection {

    public static final String OPTION = "train.device";

    private DeviceSelection() {}

    /** Fails at start, naming the option and the allowed values, for a malformed value or a GPU that is not there. */
    public static void validate(String value) {
        parse(value, -1);
    }

    public static Device resolve(String value) {
        return parse(value, Engine.getInstance().getGpuCount());
    }

    private static Device parse(String value, int gpuCount) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("auto")) {
            return gpuCount > 0 ? Device.gpu(0) : Device.cpu();
        }
        if (v.equals("cpu")) {
            return Device.cpu();
        }
        if (v.equals("gpu") || v.matches("gpu:\\d+")) {
            int index = v.equals("gpu") ? 0 : Integer.parseInt(v.substring(4));
            if (gpuCount >= 0 && index >= gpuCount) {
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "%s: '%s' asks for GPU %d but the engine finds %d GPU(s); use auto or cpu",
                        OPTION, value, index, gpuCount));
            }
            return Device.gpu(index);
        }
        throw new IllegalArgumentException(OPTION + ": '" + value + "' is not allowed; allowed values: auto, cpu, gpu, gpu:N");
    }
}
