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

    /** The advice names the settings the build and the images use, so that it cannot drift from pom.xml's. */
    @Test
    void theAdviceNamesThePomsSettings() throws java.io.IOException {
        String pom = java.nio.file.Files.readString(java.nio.file.Path.of("..", "pom.xml"));
        for (String[] setting : new String[][] {{"siamstream.glibc.tunables", "false"},
                {"siamstream.jemalloc.conf", "true"}}) {
            java.util.regex.Matcher value = java.util.regex.Pattern
                    .compile("<" + java.util.regex.Pattern.quote(setting[0]) + ">([^<]+)</").matcher(pom);
            assertThat(value.find()).as("pom.xml property %s", setting[0]).isTrue();
            assertThat(NativeAllocator.advice(Map.of(), Boolean.parseBoolean(setting[1]))).contains(value.group(1));
        }
    }
}
