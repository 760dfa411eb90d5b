package io.siamstream.bench;

import java.io.FileOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.util.TimeUtils;

/**
 * What writing a learner's checkpoint file costs the CPU, depending on how long ago the page cache of the previous one
 * was freed: the same bytes written the way the job's checkpoint writer writes them (heap arrays, one
 * {@code FileOutputStream.write} each, a new file per checkpoint, the one before deleted once the next is written, as
 * Flink deletes a subsumed checkpoint), after each wait of {@code --waits}, alternated write by write in one run.
 *
 * <p>Why: a file's pages come from the kernel's free memory. On a virtual machine that reports free memory to its host
 * (virtio-balloon free page reporting, {@code /sys/module/page_reporting}), the host can take those pages back, and
 * the first write into each one then faults it in again from the host, on the writing thread's CPU. A checkpoint
 * every 10 s writes into memory freed seconds before; written at once, the same pages are still there. The table
 * gives the writing thread's CPU (user and kernel) per MB for each wait, and the ratio of each to the first wait's.
 *
 * <p>Usage: {@code CheckpointWriteBenchmark DIR [--mb 185] [--chunk-mb 4] [--waits 0s,1s,10s] [--rounds 6]
 * [--markdown FILE]}; files go to a fresh folder under DIR (the file system the job's checkpoints go to).
 */
public final class CheckpointWriteBenchmark {

    private static final Path PAGE_REPORTING = Path.of("/sys/module/page_reporting/parameters");
    /** A megabyte as Flink's checkpoint statistics and the job benchmark count it. */
    private static final int MB = 1_000_000;

    private CheckpointWriteBenchmark() {}

    /**
     * One timed write: the thread's CPU nanoseconds, its user and kernel clock ticks from /proc (the same CPU time at
     * 10-ms resolution, for the kernel's share), wall nanoseconds, and the free memory reported to the host during
     * the wait before it (-1 where the kernel does not count it).
     */
    private record Write(Duration pause, long cpuNanos, long userTicks, long kernelTicks, long wallNanos,
                         long reportedDuringWaitKib) {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: CheckpointWriteBenchmark DIR [--mb 185] [--chunk-mb 4] [--waits 0s,1s,10s]"
                    + " [--rounds 6] [--markdown FILE]");
            System.exit(2);
        }
        Map<String, String> o = new LinkedHashMap<>(Map.of("mb", "185", "chunk-mb", "4", "waits", "0s,1s,10s",
                "rounds", "6", "markdown", ""));
        for (int i = 1; i < args.length; i += 2) {
            String key = args[i].replaceFirst("^--", "");
            if (!o.containsKey(key) || i + 1 >= args.length) {
                throw new IllegalArgumentException("unknown option or missing value: " + args[i] + "; allowed: "
                        + o.keySet());
            }
            o.put(key, args[i + 1]);
        }
        int mb = Integer.parseInt(o.get("mb"));
        int chunkMb = Integer.parseInt(o.get("chunk-mb"));
        int rounds = Integer.parseInt(o.get("rounds"));
        List<Duration> waits = Arrays.stream(o.get("waits").split(",")).map(TimeUtils::parseDuration).toList();
        if (mb < 1 || chunkMb < 1 || chunkMb > 2000 || rounds < 1 || waits.isEmpty()) {
            throw new IllegalArgumentException(
                    "--mb and --rounds must be >= 1, --chunk-mb 1 - 2000, --waits not empty");
        }

        // the writer's arrays are touched once before timing, as the job's reused snapshot arrays are
        List<byte[]> chunks = new ArrayList<>();
        for (int left = mb; left > 0; left -= chunkMb) {
            byte[] chunk = new byte[Math.min(left, chunkMb) * MB];
            for (int i = 0; i < chunk.length; i++) {
                chunk[i] = (byte) (i * 31 + left);
            }
            chunks.add(chunk);
        }
        Path dir = Files.createTempDirectory(Path.of(args[0]), "checkpoint-write-");
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        List<Write> writes = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        try {
            // one unreported write per wait first, so that every timed one follows a deletion like a checkpoint
            for (int round = 0; round <= rounds; round++) {
                for (int w = 0; w < waits.size(); w++) {
                    Duration wait = waits.get(round % 2 == 0 ? w : waits.size() - 1 - w);
                    long reported = reportedKib();
                    Thread.sleep(wait.toMillis());
                    long reportedDuringWait = reported < 0 ? -1 : reportedKib() - reported;
                    long cpu = threads.getCurrentThreadCpuTime();
                    long[] ticks = BenchProbes.threadTicks();
                    long wall = System.nanoTime();
                    Path file = dir.resolve("chk-" + files.size());
                    try (FileOutputStream out = new FileOutputStream(file.toFile())) {
                        for (byte[] chunk : chunks) {
                            out.write(chunk);
                        }
                    }
                    long[] ticksAfter = BenchProbes.threadTicks();
                    Write done = new Write(wait, threads.getCurrentThreadCpuTime() - cpu, ticksAfter[0] - ticks[0],
                            ticksAfter[1] - ticks[1], System.nanoTime() - wall, reportedDuringWait);
                    files.add(file);
                    // Flink keeps the last completed checkpoint (state.checkpoints.num-retained 1) and deletes the one
                    // before once the next completes
                    if (files.size() > 1) {
                        Files.delete(files.get(files.size() - 2));
                    }
                    if (round > 0) {
                        writes.add(done);
                    }
                    System.err.printf(Locale.ROOT, "round %d, wait %s: %.0f ms CPU, %.0f ms wall%n", round,
                            TimeUtils.formatWithHighestUnit(wait), done.cpuNanos / 1e6, done.wallNanos / 1e6);
                }
            }
        } finally {
            try (Stream<Path> left = Files.list(dir)) {
                for (Path f : left.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
        String table = table(writes, waits, mb, chunkMb, rounds, Path.of(args[0]));
        System.out.print(table);
        if (!o.get("markdown").isEmpty()) {
            Files.writeString(Path.of(o.get("markdown")), table);
        }
    }

    private static String table(List<Write> writes, List<Duration> waits, int mb, int chunkMb, int rounds, Path dir)
            throws IOException {
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "%s UTC, %d cores, kernel %s; %d MB (10^6 bytes) in %d-MB arrays to a new"
                        + " file under %s (%s) per write, the one before deleted after it; %d round(s) of waits %s"
                        + " after one unreported%n%n", Instant.now().toString().substring(0, 16).replace('T', ' '),
                Runtime.getRuntime().availableProcessors(), System.getProperty("os.version"), mb, chunkMb, dir,
                Files.getFileStore(dir).type(), rounds,
                waits.stream().map(TimeUtils::formatWithHighestUnit).toList()));
        md.append("free page reporting (").append(PAGE_REPORTING).append("): ").append(pageReporting()).append("\n\n");
        md.append("| wait before the write | writer CPU ms per write, median (min - max) | each write's CPU ms |"
                + " kernel share (all writes' ticks) | CPU ms per MB | wall ms | free memory reported to the host"
                + " during the wait MB | CPU / first wait's |\n|---|---|---|---|---|---|---|---|\n");
        double first = Double.NaN;
        for (Duration wait : waits) {
            List<Write> mine = writes.stream().filter(w -> w.pause.equals(wait)).toList();
            double[] cpu = mine.stream().mapToDouble(w -> w.cpuNanos / 1e6).toArray();
            double median = JobThroughputBenchmark.median(cpu);
            long kernel = mine.stream().mapToLong(Write::kernelTicks).sum();
            long all = kernel + mine.stream().mapToLong(Write::userTicks).sum();
            double wall = JobThroughputBenchmark.median(mine.stream().mapToDouble(w -> w.wallNanos / 1e6).toArray());
            double reported = JobThroughputBenchmark.median(
                    mine.stream().mapToDouble(w -> w.reportedDuringWaitKib * 1024.0 / MB).toArray());
            if (Double.isNaN(first)) {
                first = median;
            }
            md.append(String.format(Locale.ROOT, "| %s | %.0f (%.0f - %.0f) | %s | %s | %.2f | %.0f | %s | %.2f |%n",
                    TimeUtils.formatWithHighestUnit(wait), median, Arrays.stream(cpu).min().orElse(Double.NaN),
                    Arrays.stream(cpu).max().orElse(Double.NaN),
                    String.join(", ", Arrays.stream(cpu).mapToObj(c -> String.format(Locale.ROOT, "%.0f", c)).toList()),
                    all == 0 ? "n/a" : String.format(Locale.ROOT, "%.0f%%", 100.0 * kernel / all), median / mb, wall,
                    reported < 0 ? "n/a" : String.format(Locale.ROOT, "%.0f", reported), median / first));
        }
        return md.toString();
    }

    /** The host's count of free memory reported to it, in KiB, or -1 where the kernel has no free page reporting. */
    private static long reportedKib() {
        try {
            return Long.parseLong(Files.readString(PAGE_REPORTING.resolve("reported_kib")).trim());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    private static String pageReporting() {
        if (!Files.isDirectory(PAGE_REPORTING)) {
            return "none (no such folder)";
        }
        StringBuilder s = new StringBuilder();
        try (Stream<Path> params = Files.list(PAGE_REPORTING)) {
            for (Path p : params.sorted().toList()) {
                String name = p.getFileName().toString();
                if (!name.equals("reported_kib") && !name.equals("passes") && !name.equals("walked")) {
                    s.append(s.length() == 0 ? "" : ", ").append(name).append(' ')
                            .append(Files.readString(p).trim());
                }
            }
        } catch (IOException e) {
            return "unreadable (" + e.getMessage() + ")";
        }
        return s.toString();
    }
}
