package io.siamstream.flink;

import com.sun.jna.Library;
import com.sun.jna.Native;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Lets a CPU learner's threads have the cores first: while one trains, the TaskManager's background threads that
 * compete with it for the CPU run at a higher nice value, so that the scheduler gives them what the learner leaves
 * idle instead of preempting a learner thread.
 *
 * <p>A training step on the CPU is a fork-join of the engine's intra-op threads over all cores. When one of them is
 * preempted, the others wait for it at the next join, so the step loses more time than the preempting work takes.
 * Linux lets an unprivileged process only lower its threads' priority, never raise it, so the learner's threads cannot
 * be put above the rest; background threads are put below them instead.
 *
 * <p>Which threads: those that do heavy work beside the learner and start no thread that Flink or the learner
 * depend on, since a thread inherits its creator's nice value, and a lowered RPC dispatcher would start the next
 * learner (after a failover) as low as the rest (the RPC's fork-join pool starts its workers on whatever thread hands
 * it work):
 * <ul>
 *   <li>the learner's checkpoint writer, this class's own thread, which writes the learner's bytes in the asynchronous
 *       part of a checkpoint ({@link #write}): Flink's asynchronous-operations thread hands them over and waits,
 *       keeping its own priority for what it does besides (RocksDB's part, acknowledging the checkpoint);</li>
 *   <li>the JIT compilers and Flink's output flushers.</li>
 * </ul>
 * RocksDB's background threads are not lowered: a checkpoint's synchronous part waits for their memtable flush, and
 * writes stall behind their compactions. A checkpoint file system that starts upload threads on the thread that
 * writes (S3's multipart uploads) starts them from the writer, at its nice value, and they serve later uploads too;
 * that was not measured. Lowered threads stay lowered when the learner closes: raising them back needs a privilege the
 * TaskManager lacks. Threads started later are found by a sweep every 5 seconds (the sweep's own thread among them).
 */
public final class LearnerCpuPriority {

    private static final Logger LOG = LoggerFactory.getLogger(LearnerCpuPriority.class);
    /** setpriority(2)'s {@code which} for a single thread (a thread id is a process id to it on Linux). */
    private static final int PRIO_PROCESS = 0;
    public static final int MAX_NICENESS = 19;
    /** Flink starts the threads it lowers with a task (flushers) or on demand (compilers): a slow sweep finds them. */
    private static final long SWEEP_MILLIS = 5000;
    static final String WRITER = "learner-checkpoint-writer";
    static final String SWEEPER = "learner-cpu-priority";
    /** The names (comm, at most 15 characters) of the threads that are lowered start with one of these. */
    static final List<String> LOWERED = List.of(WRITER.substring(0, 15), SWEEPER.substring(0, 15), "C1 CompilerThre",
            "C2 CompilerThre", "OutputFlusher");

    private static int learners;
    private static int niceness;
    private static LibC libc;
    private static Thread sweeper;
    private static ExecutorService writer;
    /** Bytes the writer thread wrote, for tests that the hand-over happened. */
    private static final java.util.concurrent.atomic.AtomicLong HANDED_OVER = new java.util.concurrent.atomic.AtomicLong();

    private LearnerCpuPriority() {}

    interface LibC extends Library {
        int setpriority(int which, int who, int prio);
    }

    /**
     * Registers a learner that trains on the CPU: from now on the background threads run at {@code niceness}.
     * Returns false, and changes nothing, where there is no /proc (not Linux) or the C library cannot be reached.
     */
    public static synchronized boolean register(int niceness) {
        if (niceness < 1 || niceness > MAX_NICENESS) {
            throw new IllegalArgumentException("niceness " + niceness + " must be 1 to " + MAX_NICENESS);
        }
        if (!usable()) {
            LOG.warn("No /proc/self/task or no C library through JNA: the background threads keep the learner's"
                    + " priority");
            return false;
        }
        learners++;
        LearnerCpuPriority.niceness = Math.max(LearnerCpuPriority.niceness, niceness);
        if (sweeper == null) {
            LibC c = libc;
            sweeper = new Thread(() -> sweepForever(c), SWEEPER);
            sweeper.setDaemon(true);
            sweeper.start();
            int nice = LearnerCpuPriority.niceness;
            writer = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(() -> {
                    lowerSelf(c, nice);
                    r.run();
                }, WRITER);
                t.setDaemon(true);
                return t;
            });
            LOG.info("While a CPU learner trains, its checkpoint writer, the JIT compilers and Flink's output flushers"
                    + " run at nice {}", LearnerCpuPriority.niceness);
        }
        return true;
    }

    /** Unregisters a learner; with none left the sweep and the writer stop. */
    public static synchronized void unregister() {
        if (learners == 0) {
            return;
        }
        learners--;
        if (learners == 0) {
            sweeper.interrupt();
            sweeper = null;
            writer.shutdown();
            writer = null;
            niceness = 0;
        }
    }

    /**
     * Writes {@code bytes} to {@code out} on the lowered writer thread while a CPU learner is registered, waiting for
     * it; otherwise on the calling thread.
     */
    static void write(OutputStream out, byte[] bytes) throws IOException {
        ExecutorService w;
        synchronized (LearnerCpuPriority.class) {
            w = writer;
        }
        if (w == null) {
            out.write(bytes, 0, bytes.length);
            return;
        }
        Future<?> done;
        try {
            done = w.submit(() -> {
                try {
                    out.write(bytes, 0, bytes.length);
                    HANDED_OVER.addAndGet(bytes.length);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            out.write(bytes, 0, bytes.length);   // the last learner closed meanwhile
            return;
        }
        // the caller owns the stream and the bytes again only once the writer is done with them: an interrupt (a
        // cancelled checkpoint) is kept for after it, when Flink's closing of the stream has ended the write
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    done.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof UncheckedIOException u) {
                        throw u.getCause();
                    }
                    if (cause instanceof RuntimeException r) {
                        throw r;
                    }
                    if (cause instanceof Error err) {
                        throw err;
                    }
                    throw new IOException(cause);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (interrupted) {
            throw new java.io.InterruptedIOException("interrupted while the learner's bytes were written");
        }
    }

    static long bytesHandedOver() {
        return HANDED_OVER.get();
    }

    /** Whether the thread named {@code name} (its comm) is lowered. */
    static boolean lowers(String name) {
        for (String prefix : LOWERED) {
            if (name.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private static void lowerSelf(LibC c, int nice) {
        try {
            int tid = Integer.parseInt(Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString());
            if (nice(Path.of("/proc/self/task/" + tid)) < nice) {
                setPriority(c, tid, nice);
            }
        } catch (IOException | RuntimeException e) {
            // stays as it is; the sweep tries again
        }
    }

    /** Whether this process can lower its threads: Linux's /proc and the C library through JNA. */
    static synchronized boolean usable() {
        if (!Files.isDirectory(Path.of("/proc/self/task"))) {
            return false;
        }
        try {
            if (libc == null) {
                libc = Native.load("c", LibC.class);
            }
            return true;
        } catch (LinkageError e) {
            return false;
        }
    }

    private static boolean failureLogged;

    private static void setPriority(LibC c, int tid, int nice) {
        if (c.setpriority(PRIO_PROCESS, tid, nice) != 0 && !failureLogged) {
            failureLogged = true;
            LOG.warn("setpriority({}, {}) failed (errno {}); threads that fail keep their priority", tid, nice,
                    Native.getLastError());
        }
    }

    private static void sweepForever(LibC c) {
        // threads lowered, with the nice value they were given: a new thread may still carry its creator's name when
        // a sweep first sees it, so the others are looked at again every time
        java.util.Map<Integer, Integer> lowered = new java.util.HashMap<>();
        try {
            while (!Thread.currentThread().isInterrupted()) {
                int nice;
                synchronized (LearnerCpuPriority.class) {
                    if (sweeper != Thread.currentThread()) {
                        return;
                    }
                    nice = niceness;
                }
                sweep(c, nice, lowered);
                TimeUnit.MILLISECONDS.sleep(SWEEP_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Lowers every thread of this process that {@link #lowers} to {@code nice}, where it is not there yet; threads in
     * {@code lowered} at that value already are skipped, and those that ended are dropped from it.
     */
    static void sweep(LibC c, int nice, java.util.Map<Integer, Integer> lowered) {
        java.util.Set<Integer> alive = new java.util.HashSet<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    int tid = Integer.parseInt(task.getFileName().toString());
                    alive.add(tid);
                    if (lowered.getOrDefault(tid, Integer.MIN_VALUE) >= nice) {
                        continue;
                    }
                    if (lowers(Files.readString(task.resolve("comm")).strip())) {
                        if (nice(task) < nice) {
                            setPriority(c, tid, nice);
                        }
                        lowered.put(tid, nice);
                    }
                } catch (IOException | RuntimeException e) {
                    // the thread ended between the listing and the read
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("Cannot list /proc/self/task", e);
        }
        lowered.keySet().retainAll(alive);
    }

    /** A thread's nice value: field 19 of proc(5)'s stat, the 17th after the name. */
    static int nice(Path task) throws IOException {
        String stat = Files.readString(task.resolve("stat"));
        return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+")[16]);
    }
}
