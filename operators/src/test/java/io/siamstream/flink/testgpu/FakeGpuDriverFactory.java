package io.siamstream.flink.testgpu;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.flink.api.common.externalresource.ExternalResourceDriver;
import org.apache.flink.api.common.externalresource.ExternalResourceDriverFactory;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;

/**
 * A stand-in for Flink's GPU plugin (org.apache.flink.externalresource.gpu.GPUDriverFactory): it reports GPUs by
 * index like the real GPUInfo ({@code index} property) without looking for hardware. The first index comes from
 * {@code external-resource.gpu.param.first-index} (default 3). The tests pack it into a plugin jar, as Flink loads
 * external resource drivers only through its plugin manager.
 */
public final class FakeGpuDriverFactory implements ExternalResourceDriverFactory {

    static final ConfigOption<Integer> FIRST_INDEX = ConfigOptions.key("first-index").intType().defaultValue(3);

    @Override
    public ExternalResourceDriver createExternalResourceDriver(Configuration config) {
        int first = config.get(FIRST_INDEX);
        return amount -> {
            Set<ExternalResourceInfo> infos = new LinkedHashSet<>();
            for (long i = 0; i < amount; i++) {
                infos.add(new Info(Integer.toString(first + (int) i)));
            }
            return infos;
        };
    }

    /** Like GPUInfo: one property, {@code index}. */
    static final class Info implements ExternalResourceInfo {
        private final String index;

        Info(String index) {
            this.index = index;
        }

        @Override
        public Optional<String> getProperty(String key) {
            return "index".equals(key) ? Optional.of(index) : Optional.empty();
        }

        @Override
        public Collection<String> getKeys() {
            return List.of("index");
        }

        @Override
        public String toString() {
            return "FakeGPU(index=" + index + ")";
        }
    }
}
