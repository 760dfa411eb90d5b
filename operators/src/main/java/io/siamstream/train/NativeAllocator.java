package io.siamstream.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the process's C allocator keeps the training step's large blocks for reuse. libtorch takes every tensor from
 * malloc and frees it when the step's scope closes. With glibc's defaults a block of 32 MiB or more is mapped fresh for
 * each allocation, and heaps shrink when their free top grows; jemalloc's defaults (Flink's image preloads jemalloc)
 * purge blocks of 8 MiB or more at once. Either way the kernel faults in and zeroes a step's activations and gradients
 * again every step. The settings that avoid it are environment variables read when the process starts, so the learner
 * cannot set them; it says once per JVM, in the log, when they are missing (pom.xml's {@code siamstream.glibc.tunables}
 * and {@code siamstream.jemalloc.conf}; k8s/Dockerfile sets both).
 */
public final class NativeAllocator {

    private static final Logger LOG = LoggerFactory.getLogger(NativeAllocator.class);
    private static final AtomicBoolean CHECKED = new AtomicBoolean();

    private NativeAllocator() {}

    /** Logs {@link #advice} once per JVM (a warning), or that the allocator is set up (info). */
    static void checkOnce() {
        if (CHECKED.compareAndSet(false, true)) {
            boolean jemalloc = jemallocLoaded();
            String advice = advice(System.getenv(), jemalloc);
            if (advice == null) {
                LOG.info("C allocator: {}", jemalloc ? "jemalloc with MALLOC_CONF=" + System.getenv("MALLOC_CONF")
                        : "glibc with GLIBC_TUNABLES=" + System.getenv("GLIBC_TUNABLES"));
            } else {
                LOG.warn(advice);
            }
        }
    }

    /**
     * What to set, or null when the allocator keeps large blocks: jemalloc with an {@code oversize_threshold} in
     * MALLOC_CONF, or glibc with a {@code glibc.malloc.mmap_threshold} in GLIBC_TUNABLES.
     */
    static String advice(Map<String, String> env, boolean jemalloc) {
        if (jemalloc) {
            String conf = env.getOrDefault("MALLOC_CONF", "");
            return conf.contains("oversize_threshold:") ? null
                    : "C allocator: jemalloc without an oversize_threshold in MALLOC_CONF ('" + conf + "'): it purges"
                    + " every block of 8 MiB or more when freed, and each training step faults its large tensors in"
                    + " again; set MALLOC_CONF=narenas:1,oversize_threshold:4294967296,dirty_decay_ms:-1,muzzy_decay_ms:-1"
                    + " (as k8s/Dockerfile does) before the JVM starts";
        }
        String tunables = env.getOrDefault("GLIBC_TUNABLES", "");
        return tunables.contains("glibc.malloc.mmap_threshold=") ? null
                : "C allocator: glibc without glibc.malloc.mmap_threshold in GLIBC_TUNABLES ('" + tunables + "'): it"
                + " maps and unmaps blocks of 32 MiB or more on every allocation, and each training step faults its"
                + " large tensors in again; set GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold="
                + "33554432:glibc.malloc.trim_threshold=4294967296:glibc.malloc.top_pad=268435456 (pom.xml's"
                + " siamstream.glibc.tunables) before the JVM starts";
    }

    /** Whether jemalloc is mapped into this process (preloaded), from /proc/self/maps; false where there is none. */
    static boolean jemallocLoaded() {
        try (Stream<String> maps = Files.lines(Path.of("/proc/self/maps"))) {
            return maps.anyMatch(line -> line.contains("libjemalloc"));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
