package io.siamstream.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CompletedCheckpointStats;
import org.apache.flink.runtime.checkpoint.SubtaskStateStats;
import org.apache.flink.runtime.checkpoint.TaskStateStats;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.runtime.jobgraph.JobVertexID;

/**
 * What the benchmarks measure about the process and the machine, shared by them: resident memory, the CPU share of
 * other processes, and Flink's own checkpoint statistics (as the JobMaster's {@code CheckpointStatsSnapshot} reports
 * them) reduced to the figures the reports print.
 */
final class BenchProbes {

    private BenchProbes() {}

    /** Resident memory of this process (VmRSS in /proc/self/status) in MiB; -1 where there is no /proc. */
    static long rssMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Bytes of the regular files under {@code root} (0 if it does not exist); files deleted meanwhile are skipped. */
    static long directoryBytes(Path root) {
        if (root == null || !Files.exists(root)) {
            return 0;
        }
        long sum = 0;
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                try {
                    if (Files.isRegularFile(p)) {
                        sum += Files.size(p);
                    }
                } catch (IOException e) {
                    // removed by Flink between the listing and the size (a subsumed checkpoint): not counted
                }
            }
        } catch (IOException | UncheckedIOException e) {
            // the folder itself went away (e.g. a chk-N subsumed while walking): what was counted stands
        }
        return sum;
    }

    /** The CPU share other processes use while a run goes on (/proc/stat busy time minus this JVM's CPU time). */
    record Load(long wall0, double busy0, long own0, long[] self0) {
        static Load start() {
            return new Load(System.nanoTime(), busySeconds(), ownCpuNanos(), selfStat());
        }

        /**
         * Minor page faults of this JVM since the start: each is a page the kernel mapped and zeroed on first touch.
         * A step that frees and re-allocates its large buffers through the C allocator pays one per 4 KiB page every
         * step; NaN where there is no /proc.
         */
        double minorFaults() {
            long[] now = selfStat();
            return now == null || self0 == null ? Double.NaN : now[0] - self0[0];
        }

        /** The kernel's share of this JVM's CPU time since the start (system / (user + system)); NaN without /proc. */
        double kernelShare() {
            long[] now = selfStat();
            if (now == null || self0 == null) {
                return Double.NaN;
            }
            double user = now[1] - self0[1];
            double system = now[2] - self0[2];
            return user + system == 0 ? Double.NaN : system / (user + system);
        }

        /** minflt, utime, stime (fields 10, 14, 15) of /proc/self/stat; null where it cannot be read. */
        private static long[] selfStat() {
            try {
                String[] f = statFields(Files.readString(Path.of("/proc/self/stat")));
                return new long[] {Long.parseLong(f[MINFLT]), Long.parseLong(f[UTIME]), Long.parseLong(f[STIME])};
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }

        /** CPU time this JVM used since the start (all its threads, the engine's native ones included). */
        double ownCpuMillis() {
            return (ownCpuNanos() - own0) / 1e6;
        }

        /** Other processes' CPU time since the start, as a share of the whole machine (all cores). */
        double foreignShare() {
            double wall = (System.nanoTime() - wall0) / 1e9;
            double busy = busySeconds() - busy0;
            double own = (ownCpuNanos() - own0) / 1e9;
            return Math.max(0, busy - own) / (wall * Runtime.getRuntime().availableProcessors());
        }

        /** This JVM's CPU time since the start, as a share of the whole machine (all cores). */
        double ownShare() {
            double wall = (System.nanoTime() - wall0) / 1e9;
            return (ownCpuNanos() - own0) / 1e9 / (wall * Runtime.getRuntime().availableProcessors());
        }

        private static long ownCpuNanos() {
            return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                    .getProcessCpuTime();
        }

        private static double busySeconds() {
            long busy = busyNanos();
            return busy < 0 ? Double.NaN : busy / 1e9;
        }
    }

    /**
     * CPU time of this JVM's threads by thread name, from /proc/self/task/&lt;tid&gt;/stat (utime + stime) and the
     * kernel's thread name (comm: the Java thread name cut to 15 characters; threads the engine starts natively are
     * called {@code java}). It says where a run's CPU goes beyond the learner: the Flink tasks (augmentation, pairing,
     * training), checkpointing, RocksDB and the engine's worker threads. Empty where there is no /proc.
     */
    record ThreadCpu(Map<Integer, Task> before) {
        /**
         * A thread's name (comm), its CPU time in clock ticks, the part of it in the kernel, and the nanoseconds it
         * spent runnable but waiting for a core (the second field of /proc's schedstat; -1 where the kernel does not
         * keep it).
         */
        record Task(String name, long ticks, long kernelTicks, long waitNanos) {}

        /** Appended to a group's name for the time its threads waited for a core. */
        static final String WAITING = " [waiting for a core]";
        /** Appended to a group's name for the part of its CPU time spent in the kernel. */
        static final String KERNEL = " [in the kernel]";

        static ThreadCpu start() {
            return new ThreadCpu(read());
        }

        /**
         * CPU milliseconds per thread group since the start; under the group's name + {@link #KERNEL} the part of
         * them in the kernel, and under the group's name + {@link #WAITING} the milliseconds its threads were
         * runnable but had no core: a fork-join step stalls on a worker that waits there, without spending more CPU
         * (threads that ended meanwhile are not counted).
         */
        Map<String, Double> millisByGroup() {
            Map<String, Double> out = new TreeMap<>();
            read().forEach((tid, now) -> {
                Task then = before.get(tid);
                long ticks = now.ticks() - (then == null ? 0 : then.ticks());
                if (ticks > 0) {
                    out.merge(group(now.name()), ticks * (double) TICK_MILLIS, Double::sum);
                }
                long kernel = now.kernelTicks() - (then == null ? 0 : then.kernelTicks());
                if (kernel > 0) {
                    out.merge(group(now.name()) + KERNEL, kernel * (double) TICK_MILLIS, Double::sum);
                }
                long wait = now.waitNanos() - (then == null ? 0 : then.waitNanos());
                if (now.waitNanos() >= 0 && wait > 0) {
                    out.merge(group(now.name()) + WAITING, wait / 1e6, Double::sum);
                }
            });
            return out;
        }

        /** "augment-view1 (1/1)#0" and "augment-view1 (" both become "augment-view1"; numbered pool threads one name. */
        static String group(String comm) {
            String g = comm;
            int paren = g.indexOf(" (");
            if (paren > 0) {
                g = g.substring(0, paren);
            }
            return g.replaceAll("[-#_ ]*[0-9]+$", "").trim();
        }

        private static Map<Integer, Task> read() {
            Map<Integer, Task> out = new HashMap<>();
            try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
                for (Path task : (Iterable<Path>) tasks::iterator) {
                    try {
                        String stat = Files.readString(task.resolve("stat"));
                        String[] f = statFields(stat);
                        out.put(Integer.parseInt(task.getFileName().toString()), new Task(
                                stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
                                Long.parseLong(f[UTIME]) + Long.parseLong(f[STIME]), Long.parseLong(f[STIME]),
                                waitNanos(task)));
                    } catch (IOException | RuntimeException e) {
                        // the thread ended between the listing and the read: not counted
                    }
                }
            } catch (IOException | UncheckedIOException e) {
                return out;
            }
            return out;
        }
    }

    /**
     * The calling thread's user and kernel CPU time in clock ticks (utime and stime of /proc/thread-self/stat), or
     * zeros where they cannot be read.
     */
    static long[] threadTicks() {
        try {
            String[] f = statFields(Files.readString(Path.of("/proc/thread-self/stat")));
            return new long[] {Long.parseLong(f[UTIME]), Long.parseLong(f[STIME])};
        } catch (IOException | RuntimeException e) {
            return new long[2];
        }
    }

    /** The run-queue wait of schedstat(5)'s "time spent waiting on a runqueue", or -1 where it cannot be read. */
    private static long waitNanos(Path task) {
        try {
            String[] f = Files.readString(task.resolve("schedstat")).trim().split("\\s+");
            return Long.parseLong(f[1]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Clock ticks of /proc's CPU times: USER_HZ is 100 on Linux. */
    private static final long TICK_MILLIS = 10;
    /** Indices into {@link #statFields} of minflt, utime and stime (fields 10, 14 and 15 of proc(5)'s stat). */
    private static final int MINFLT = 7;
    private static final int UTIME = 11;
    private static final int STIME = 12;

    /**
     * The fields of a /proc/&lt;pid&gt;[/task/&lt;tid&gt;]/stat line after the name, from field 3 (state) on: the name
     * may hold spaces and parentheses, so the line is split after its last ')'.
     */
    static String[] statFields(String stat) {
        return stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
    }

    /**
     * CPU time all processes spent busy since boot (user, nice, system, irq, softirq, steal; not idle or iowait),
     * from /proc/stat; -1 where it cannot be read.
     */
    static long busyNanos() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i = 1; i <= 8; i++) {
                if (i != 4 && i != 5) {  // idle, iowait
                    busy += Long.parseLong(f[i]);
                }
            }
            return busy * TICK_MILLIS * 1_000_000L;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * One completed checkpoint, as Flink's statistics report it: trigger time (epoch ms), end-to-end duration, the
     * training subtask's synchronous part (training waits: the learner is copied out of the engine) and asynchronous
     * part (the learner and RocksDB's files are written), the full state size of the job, the incrementally checkpointed (uploaded) size, the training
     * operator's state size, and the in-flight data an unaligned checkpoint persisted. -1 where not reported.
     */
    record Checkpoint(long id, long triggerMillis, long endToEndMs, long trainSyncMs, long trainAsyncMs,
                      long stateBytes, long checkpointedBytes, long trainStateBytes, long persistedBytes) {

        static Checkpoint of(CompletedCheckpointStats done, JobVertexID train) {
            long sync = -1;
            long async = -1;
            long trainBytes = -1;
            TaskStateStats task = train == null ? null : done.getTaskStateStats(train);
            if (task != null) {
                for (SubtaskStateStats s : task.getSubtaskStats()) {
                    if (s != null) {
                        sync = Math.max(sync, s.getSyncCheckpointDuration());
                        async = Math.max(async, s.getAsyncCheckpointDuration());
                    }
                }
                trainBytes = task.getStateSize();
            }
            return new Checkpoint(done.getCheckpointId(), done.getTriggerTimestamp(), done.getEndToEndDuration(), sync,
                    async, done.getStateSize(), done.getCheckpointedSize(), trainBytes, done.getPersistedData());
        }
    }

    /** The job vertex of the training operator (its name starts with "train"; other operators may be chained to it). */
    static JobVertexID trainVertex(JobGraph jobGraph) {
        JobVertexID train = null;
        for (JobVertex v : jobGraph.getVertices()) {
            if (v.getName().startsWith("train")) {
                train = v.getID();
            }
        }
        return train;
    }

    /** The completed checkpoints in Flink's statistics history (the last {@code web.checkpoints.history}), by id. */
    static List<Checkpoint> completedCheckpoints(AccessExecutionGraph graph, JobVertexID train) {
        List<Checkpoint> out = new ArrayList<>();
        var snapshot = graph.getCheckpointStatsSnapshot();
        if (snapshot == null) {
            return out;
        }
        for (AbstractCheckpointStats c : snapshot.getHistory().getCheckpoints()) {
            if (c instanceof CompletedCheckpointStats done) {
                out.add(Checkpoint.of(done, train));
            }
        }
        out.sort((a, b) -> Long.compare(a.id(), b.id()));
        return out;
    }

    /**
     * How many checkpoints of the job have completed since it started: Flink's running count, which, unlike the
     * history ({@link #completedCheckpoints}), has no cap.
     */
    static long completedCheckpointCount(AccessExecutionGraph graph) {
        var snapshot = graph.getCheckpointStatsSnapshot();
        return snapshot == null ? 0 : snapshot.getCounts().getNumberOfCompletedCheckpoints();
    }

    /** The latest completed checkpoint, or null when none has completed (or the statistics are not there yet). */
    static Checkpoint latestCheckpoint(AccessExecutionGraph graph, JobVertexID train) {
        var snapshot = graph.getCheckpointStatsSnapshot();
        CompletedCheckpointStats latest = snapshot == null ? null : snapshot.getHistory().getLatestCompletedCheckpoint();
        return latest == null ? null : Checkpoint.of(latest, train);
    }
}
