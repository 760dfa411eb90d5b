package io.siamstream.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class NativeAllocatorTest {

    @Test
    void glibcWithoutAnMmapThresholdIsToldWhatToSet() {
        assertThat(NativeAllocator.advice(Map.of(), false))
                .contains("GLIBC_TUNABLES").contains("glibc.malloc.mmap_threshold=33554432");
        assertThat(NativeAllocator.advice(Map.of("GLIBC_TUNABLES", "glibc.malloc.arena_max=2"), false))
                .contains("glibc.malloc.arena_max=2");
        assertThat(NativeAllocator.advice(Map.of("GLIBC_TUNABLES",
                "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296"), false)).isNull();
    }

    @Test
    void jemallocWithoutAnOversizeThresholdIsToldWhatToSet() {
        // glibc's tunables do not help a preloaded jemalloc
        assertThat(NativeAllocator.advice(Map.of("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=33554432"), true))
                .contains("MALLOC_CONF=narenas:1,oversize_threshold:4294967296");
        assertThat(NativeAllocator.advice(Map.of("MALLOC_CONF", "oversize_threshold:4294967296"), true)).isNull();
    }

    /** The build's test JVMs get pom.xml's settings (surefire's environmentVariables, beside DJL_OFFLINE). */
    @Test
    void theTestJvmRunsWithThePomsSettings() {
        assumeTrue(System.getenv("DJL_OFFLINE") != null, "not started by the build's surefire");
        assertThat(NativeAllocator.advice(System.getenv(), NativeAllocator.jemallocLoaded())).isNull();
    }
}
