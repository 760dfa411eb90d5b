package io.siamstream.flink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * While a CPU learner is registered, the background threads (here one named like Flink's output flusher) and the
 * checkpoint writer run lowered, and every other thread keeps its priority; the learner's bytes reach the stream
 * unchanged. Niceness 1 keeps the lowering from slowing the rest of this test JVM.
 */
class LearnerCpuPriorityTest {

    @Test
    void backgroundThreadsAndTheWriterAreLoweredAndTheRestKeepTheirPriority() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "needs Linux's /proc");
        CountDownLatch done = new CountDownLatch(1);
        AtomicInteger flusherTid = new AtomicInteger();
        AtomicInteger otherTid = new AtomicInteger();
        Thread flusher = parked("OutputFlusher for train", flusherTid, done);
        Thread other = parked("train -> Sink: steps (1/1)#0", otherTid, done);
        int before = LearnerCpuPriority.nice(task(tid()));
        // at nice 1 or more already, the lowering to 1 would change nothing to see
        assumeTrue(before == 0, "the test JVM runs at nice " + before);
        assertThat(LearnerCpuPriority.register(1)).isTrue();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (LearnerCpuPriority.nice(task(flusherTid.get())) < 1 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(LearnerCpuPriority.nice(task(flusherTid.get()))).isEqualTo(1);
            assertThat(LearnerCpuPriority.nice(task(otherTid.get()))).isEqualTo(before);
            assertThat(LearnerCpuPriority.nice(task(tid()))).isEqualTo(before);

            byte[] bytes = new byte[1 << 20];
            new java.util.SplittableRandom(7).nextBytes(bytes);
            ByteArrayOutputStream sink = new ByteArrayOutputStream();
            AtomicReference<String> writerName = new AtomicReference<>();
            AtomicInteger writerNice = new AtomicInteger(-100);
            LearnerCpuPriority.write(new OutputStream() {
                @Override
                public void write(int b) {
                    throw new AssertionError("written byte by byte");
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    writerName.set(Thread.currentThread().getName());
                    writerNice.set(LearnerCpuPriority.nice(task(tid())));
                    sink.write(b, off, len);
                }
            }, bytes);
            assertThat(sink.toByteArray()).isEqualTo(bytes);
            assertThat(writerName.get()).isEqualTo(LearnerCpuPriority.WRITER);
            assertThat(writerNice.get()).isEqualTo(1);
        } finally {
            LearnerCpuPriority.unregister();
            done.countDown();
            flusher.join(10_000);
            other.join(10_000);
        }
        // with no learner left the sweep stops, and bytes are written on the calling thread
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (threadNamed(LearnerCpuPriority.SWEEPER) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(threadNamed(LearnerCpuPriority.SWEEPER)).isFalse();
        AtomicReference<String> caller = new AtomicReference<>();
        LearnerCpuPriority.write(new OutputStream() {
            @Override
            public void write(int b) {
                throw new AssertionError("written byte by byte");
            }

            @Override
            public void write(byte[] b, int off, int len) {
                caller.set(Thread.currentThread().getName());
            }
        }, new byte[8]);
        assertThat(caller.get()).isEqualTo(Thread.currentThread().getName());
    }

    @Test
    void onlyLeafBackgroundThreadsAreLowered() {
        assertThat(LearnerCpuPriority.lowers("OutputFlusher f")).isTrue();
        assertThat(LearnerCpuPriority.lowers("C2 CompilerThre")).isTrue();
        assertThat(LearnerCpuPriority.lowers("C1 CompilerThre")).isTrue();
        assertThat(LearnerCpuPriority.lowers("learner-checkpo")).isTrue();
        assertThat(LearnerCpuPriority.lowers("learner-cpu-pri")).isTrue();
        // the RPC dispatcher starts task threads, task and asynchronous-operations threads hand work to it
        assertThat(LearnerCpuPriority.lowers("flink-pekko.act")).isFalse();
        assertThat(LearnerCpuPriority.lowers("train -> Sink: ")).isFalse();
        assertThat(LearnerCpuPriority.lowers("AsyncOperations")).isFalse();
        assertThat(LearnerCpuPriority.lowers("augment-view1 (")).isFalse();
        assertThat(LearnerCpuPriority.lowers("GC Thread#0")).isFalse();
        // a checkpoint's synchronous part waits for RocksDB's flush
        assertThat(LearnerCpuPriority.lowers("rocksdb:high0")).isFalse();
    }

    @Test
    void aNicenessOutOfRangeIsRefused() {
        assertThatThrownBy(() -> LearnerCpuPriority.register(0)).hasMessageContaining("1 to 19");
        assertThatThrownBy(() -> LearnerCpuPriority.register(20)).hasMessageContaining("1 to 19");
    }

    private static Thread parked(String name, AtomicInteger tid, CountDownLatch done) throws InterruptedException {
        CountDownLatch started = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            tid.set(tid());
            started.countDown();
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name);
        t.setDaemon(true);
        t.start();
        started.await();
        return t;
    }

    private static int tid() {
        try {
            return Integer.parseInt(Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path task(int tid) {
        return Path.of("/proc/self/task/" + tid);
    }

    private static boolean threadNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(name) && t.isAlive());
    }
}
