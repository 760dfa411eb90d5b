package io.siamstream.bench;

import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.job.JobSettings;
import io.siamstream.job.SiamstreamJob;
import io.siamstream.job.SiamstreamOptions;
import io.siamstream.record.StepMetrics;
import io.siamstream.train.Learner;
import io.siamstream.train.ReplayTrainer;
import io.siamstream.bench.BenchProbes.Checkpoint;
import io.siamstream.bench.BenchProbes.Load;
import io.siamstream.bench.BenchProbes.ThreadCpu;
import io.siamstream.flink.LearnerCpuPriority;
import io.siamstream.train.ViewBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongUnaryOperator;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.TimeUtils;

/**
 * Throughput of the whole streaming job against the bare learner, in one JVM, alternated round by round.
 *
 * <p>The job: the dataset replay source (endless, bundled Fashion-MNIST sample), the two augmentation operators,
 * pairing by seq, the keyed training operator, RocksDB state (incremental checkpoints), on a MiniCluster started
 * once for all runs. Its step metrics go to a sink that stamps the arrival time of every step; throughput is
 * {@code steps x batch / (t(start + steps) - t(start))}, where {@code start} is the step reached at a random point of
 * a checkpoint interval after the warm-up steps and, in checkpointed runs, after {@code --warmup-checkpoints}
 * completed checkpoints (runs without checkpoints warm up for as many intervals): start-up, the first (compiling)
 * steps and the first checkpoints (the JIT compiling the checkpoint path) are not counted, and the window holds as
 * many checkpoints on average as its length gives. Model updates are published only every 10^9 steps, so no evaluation runs during the measurement.
 *
 * <p>The peer: {@link Learner#step} on the same configuration (model, batch, seed, engine threads), fed the same
 * batches, made beforehand with {@link ReplayTrainer#batch} (views computed before timing), on the main thread.
 *
 * <p>Each round runs the modes given ({@code job} without checkpoints, {@code job-ckpt} with a
 * checkpoint every {@code --checkpoint-interval}, {@code bare}), in their order in odd rounds and in reverse in even
 * ones, so that a slow drift of the machine's speed falls on both sides of a ratio; the summary reports medians over the rounds and
 * the median of the per-round ratios. For checkpointed runs it reports every checkpoint completed during the
 * measurement from Flink's own checkpoint statistics (the JobMaster's {@code CheckpointStatsSnapshot}): end-to-end
 * duration, the training subtask's synchronous part (which blocks training: the learner is copied out of the engine,
 * the waiting pairs go to RocksDB, RocksDB takes its snapshot) and asynchronous part (the learner and RocksDB's files
 * are written), the full state size and the incrementally uploaded size; and the training pace while checkpoints
 * ran against the pace otherwise ({@link CheckpointPace}): what a checkpoint costs the learner, which the ratio to the
 * bare learner cannot tell apart from the machine's drift between runs.
 *
 * <p>Every run also reports the CPU share other processes used while it ran (from /proc/stat minus this JVM's own
 * CPU time): on a shared machine that is what makes numbers noisy.
 *
 * <p>Usage: {@code JobThroughputBenchmark [--model convnet|resnet18] [--batch 128] [--warmup 10] [--warmup-checkpoints 0] [--steps 100]
 * [--rounds 3] [--modes job,job-ckpt,job-ckpt-unaligned,job-ckpt-unaligned-timeout,bare,bare-main]
 * [--checkpoint-interval 10s] [--aligned-checkpoint-timeout 2s] [--parallelism 2]
 * [--managed-memory 1g] [--flink-conf key=value,key=value] [--markdown FILE]}; the last two go into the
 * MiniCluster's configuration.
 * {@code resnet18} is the CIFAR ResNet-18 with the paper's 2048-wide heads, on the job's 1 x 28 x 28 views.
 */
public final class JobThroughputBenchmark {

    private JobThroughputBenchmark() {}

    /** Arrival time (System.nanoTime) and in-learner step time of every step, by run name; the MiniCluster shares this JVM. */
    static final Map<String, Map<Long, long[]>> CLOCKS = new ConcurrentHashMap<>();

    /**
     * Unaligned checkpoints that start aligned: a subtask whose barriers have not aligned within
     * {@code --aligned-checkpoint-timeout} switches to unaligned (Flink's execution.checkpointing.aligned-checkpoint-timeout).
     */
    static final String JOB_CKPT_TIMEOUT = "job-ckpt-unaligned-timeout";

    private record Options(String model, int batch, int warmup, int steps, int rounds, List<String> modes,
                           Duration checkpointInterval, int parallelism, Path markdown, String managedMemory,
                           String flinkConf, int viewParallelism, int warmupCheckpoints, int warmupRounds,
                           int backgroundNiceness, Duration alignedCheckpointTimeout) {

        static Options parse(String[] args) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("model", "convnet");
            m.put("batch", "128");
            m.put("warmup", "10");
            m.put("steps", "100");
            m.put("rounds", "3");
            m.put("modes", "job,job-ckpt,bare");
            m.put("checkpoint-interval", "10s");
            m.put("parallelism", "2");
            m.put("markdown", "");
            m.put("managed-memory", "");
            m.put("flink-conf", "");
            m.put("view-parallelism", "1");
            m.put("warmup-checkpoints", "0");
            m.put("warmup-rounds", "0");
            m.put("background-niceness", "0");
            m.put("aligned-checkpoint-timeout", "2s");
            for (int i = 0; i < args.length; i += 2) {
                String key = args[i].replaceFirst("^--", "");
                if (!m.containsKey(key) || i + 1 >= args.length) {
                    throw new IllegalArgumentException("unknown option or missing value: " + args[i]
                            + "; options: " + m.keySet());
                }
                m.put(key, args[i + 1]);
            }
            List<String> modes = List.of(m.get("modes").split(","));
            for (String mode : modes) {
                if (!List.of("job", "job-ckpt", "job-ckpt-unaligned", JOB_CKPT_TIMEOUT, "bare", "bare-main").contains(mode)) {
                    throw new IllegalArgumentException("--modes: '" + mode + "' is not allowed; allowed: job, job-ckpt,"
                            + " job-ckpt-unaligned, " + JOB_CKPT_TIMEOUT + ", bare, bare-main");
                }
            }
            if (!List.of("convnet", "resnet18").contains(m.get("model"))) {
                throw new IllegalArgumentException("--model: '" + m.get("model") + "'; allowed: convnet, resnet18");
            }
            Duration d = duration(m.get("checkpoint-interval"));
            return new Options(m.get("model"), Integer.parseInt(m.get("batch")), Integer.parseInt(m.get("warmup")),
                    Integer.parseInt(m.get("steps")), Integer.parseInt(m.get("rounds")), modes, d,
                    Integer.parseInt(m.get("parallelism")), m.get("markdown").isEmpty() ? null : Path.of(m.get("markdown")),
                    m.get("managed-memory"), m.get("flink-conf"), Integer.parseInt(m.get("view-parallelism")),
                    Integer.parseInt(m.get("warmup-checkpoints")), Integer.parseInt(m.get("warmup-rounds")),
                    Integer.parseInt(m.get("background-niceness")), duration(m.get("aligned-checkpoint-timeout")));
        }

        private static Duration duration(String value) {
            return TimeUtils.parseDuration(value.trim());   // "10s", "2 s", "500 ms", "1 min"
        }
    }

    /** One timed run. */
    private record Run(String mode, int round, double pairsPerSecond, double medianStepMs, double learnerShare,
                       double foreignLoad, double cpuMsPerStep, double faultsPerStep, double kernelShare,
                       List<Checkpoint> checkpoints, Map<String, Double> threadCpuMsPerStep,
                       CheckpointPace pace) {}

    /**
     * A job run's steps split by whether they ended while a checkpoint ran (from its trigger to one second after it
     * completed, so that what the checkpoint's completion starts counts too) or not. Wall ms per step is the time
     * from the step before (the step and the wait for its pairs); learner ms is the step alone. {@code addedMs}: the
     * wall time each checkpoint added to the window, against the pace of the window's other steps.
     */
    record CheckpointPace(int nearSteps, double nearWallMs, double nearLearnerMs, int farSteps, double farWallMs,
                          double farLearnerMs, double addedMs) {

        static final long AFTER_COMPLETION_MS = 1000;

        static CheckpointPace of(double[] wallMs, double[] learnerMs, long[] endMillis, List<Checkpoint> checkpoints) {
            double nearWall = 0, nearStep = 0, farWall = 0, farStep = 0;
            int near = 0, far = 0;
            for (int i = 0; i < wallMs.length; i++) {
                long end = endMillis[i];
                if (checkpoints.stream().anyMatch(c -> spans(c, end))) {
                    near++;
                    nearWall += wallMs[i];
                    nearStep += learnerMs[i];
                } else {
                    far++;
                    farWall += wallMs[i];
                    farStep += learnerMs[i];
                }
            }
            // per checkpoint whose span (trigger to completion + 1 s) holds a step of the window
            long overlapping = checkpoints.stream()
                    .filter(c -> Arrays.stream(endMillis).anyMatch(end -> spans(c, end))).count();
            double added = near == 0 || far == 0 || overlapping == 0 ? Double.NaN
                    : (nearWall - near * farWall / far) / overlapping;
            return new CheckpointPace(near, near == 0 ? Double.NaN : nearWall / near,
                    near == 0 ? Double.NaN : nearStep / near, far, far == 0 ? Double.NaN : farWall / far,
                    far == 0 ? Double.NaN : farStep / far, added);
        }

        /** Whether a step that ended at {@code endMillis} ran while {@code c} ran (trigger to completion + 1 s). */
        private static boolean spans(Checkpoint c, long endMillis) {
            return endMillis >= c.triggerMillis()
                    && endMillis <= c.triggerMillis() + c.endToEndMs() + AFTER_COMPLETION_MS;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "while a checkpoint ran %d steps, wall %.1f ms/step (learner %.1f);"
                    + " otherwise %d steps, wall %.1f (learner %.1f); wall time added per checkpoint %.0f ms",
                    nearSteps, nearWallMs, nearLearnerMs, farSteps, farWallMs, farLearnerMs, addedMs);
        }
    }

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        Configuration conf = new Configuration();
        conf.set(SiamstreamOptions.ENCODER, o.model().equals("convnet") ? "convnet" : "resnet18_cifar");
        conf.set(SiamstreamOptions.BATCH_SIZE, o.batch());
        conf.set(SiamstreamOptions.EPOCHS, 0L);                         // endless: each run is cancelled when measured
        conf.set(SiamstreamOptions.PUBLISH_EVERY, 1_000_000_000);      // no evaluation inside the measurement
        conf.set(SiamstreamOptions.SCHEDULE_STEPS, 1_000_000L);
        conf.set(SiamstreamOptions.DEVICE, "cpu");
        conf.set(SiamstreamOptions.VIEW1_PARALLELISM, o.viewParallelism());
        conf.set(SiamstreamOptions.VIEW2_PARALLELISM, o.viewParallelism());
        conf.set(SiamstreamOptions.BACKGROUND_NICENESS, o.backgroundNiceness());
        JobSettings settings = JobSettings.from(conf);
        int total = o.warmup() + o.steps();

        System.err.printf(Locale.ROOT, "job-benchmark: %s, batch %d, %d warm-up + %d timed steps, %d round(s) of %s,"
                        + " checkpoint interval %s, parallelism %d (augmentation %d), %d cores%n", o.model(), o.batch(),
                o.warmup(), o.steps(), o.rounds(), o.modes(), o.checkpointInterval(), o.parallelism(), o.viewParallelism(),
                Runtime.getRuntime().availableProcessors());

        List<ViewBatch> batches = new ArrayList<>();
        if (o.modes().contains("bare") || o.modes().contains("bare-main")) {
            try (Learner maker = Learner.create(settings.learner())) {
                ReplayTrainer replay = new ReplayTrainer(maker, FashionMnist.sample(FashionMnist.Split.TRAIN).asImages(),
                        settings.policy(), settings.policy(), settings.seed());
                for (int i = 0; i < total; i++) {
                    batches.add(replay.batch(i));
                }
            }
        }

        // the bare learner gets the job's thread priorities: with train.background-niceness, the MiniCluster's
        // background threads are lowered as in a TaskManager with a training task
        if (o.backgroundNiceness() > 0) {
            BARE_LEARNER.submit(() -> LearnerCpuPriority.register(o.backgroundNiceness())).get();
        }

        Path checkpoints = Files.createTempDirectory("siamstream-job-bench");
        List<Run> runs = new ArrayList<>();
        try (MiniCluster cluster = startCluster(checkpoints, o.managedMemory(), o.flinkConf())) {
            // warm-up rounds (numbered 0 and below) run every mode and are not reported: the first job in a JVM has
            // the JIT compile Flink's runtime inside its timed window, which a long-running job pays once at its start
            // and the bare learner, which runs little of that code, never does
            for (int round = 1 - o.warmupRounds(); round <= o.rounds(); round++) {
                // even rounds run the modes in reverse (A B, B A, ...), so a drift of the machine's speed falls on
                // both sides of a ratio
                List<String> order = new ArrayList<>(o.modes());
                if (round % 2 == 0) {
                    Collections.reverse(order);
                }
                for (String mode : order) {
                    Run run = mode.startsWith("bare")
                            ? bare(settings, batches, o, round, mode)
                            : job(cluster, settings, o, round, mode);
                    if (round >= 1) {
                        runs.add(run);
                    }
                    System.err.printf(Locale.ROOT, "job-benchmark: round %d %-8s %8.1f pairs/s, median step %.1f ms,"
                                    + " learner busy %.0f%%, JVM CPU %.0f ms/step (kernel %.0f%%, %.0f minor faults/step),"
                                    + " other processes %.0f%%%s%n", round, mode,
                            run.pairsPerSecond(), run.medianStepMs(), 100 * run.learnerShare(), run.cpuMsPerStep(),
                            100 * run.kernelShare(), run.faultsPerStep(),
                            100 * run.foreignLoad(),
                            run.checkpoints().isEmpty() ? "" : ", " + run.checkpoints().size() + " checkpoint(s)");
                    // the summary's thread table holds medians; a round that stands out is read here
                    StringBuilder busy = new StringBuilder();
                    run.threadCpuMsPerStep().forEach((group, ms) -> {
                        if (ms >= 2) {
                            busy.append(String.format(Locale.ROOT, " %s %.1f;", group.trim(), ms));
                        }
                    });
                    System.err.printf(Locale.ROOT, "job-benchmark: round %d %s CPU ms per step by thread:%s%n", round,
                            mode, busy);
                }
            }
        }
        deleteRecursively(checkpoints);
        String report = report(o, runs);
        System.out.println(report);
        if (o.markdown() != null) {
            Files.createDirectories(o.markdown().toAbsolutePath().getParent());
            Files.writeString(o.markdown(), report);
        }
        System.exit(0); // RocksDB and Flink leave non-daemon threads behind
    }

    /** The MiniCluster the job benchmarks share: RocksDB, incremental checkpoints under {@code checkpoints}, 4 slots. */
    static MiniCluster startCluster(Path checkpoints, String managedMemory, String flinkConf)
            throws Exception {
        Configuration conf = new Configuration();
        for (String pair : flinkConf.split(",")) {
            if (!pair.isBlank()) {
                String[] kv = pair.split("=", 2);
                conf.setString(kv[0].trim(), kv[1].trim());
            }
        }
        if (!managedMemory.isEmpty()) {
            conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, org.apache.flink.configuration.MemorySize.parse(managedMemory));
        }
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, 4);
        conf.set(RestOptions.BIND_PORT, "0");
        // the window's checkpoint figures come from the statistics history, which keeps the last 10 by default: a
        // longer window would lose its first ones without a word (a job is cancelled within 30 minutes, 180 checkpoints
        // at 10 s)
        conf.set(WebOptions.CHECKPOINTS_HISTORY_SIZE, 1000);
        conf.setString("pipeline.generic-types", "false");
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(conf).setNumTaskManagers(1).setNumSlotsPerTaskManager(4).build());
        cluster.start();
        return cluster;
    }

    private static Run job(MiniCluster cluster, JobSettings settings, Options o, int round, String mode)
            throws Exception {
        boolean checkpointed = mode.startsWith("job-ckpt");
        String name = mode + "-" + round;
        Map<Long, long[]> clock = new ConcurrentHashMap<>();
        CLOCKS.put(name, clock);

        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.setString("pipeline.generic-types", "false");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(o.parallelism());
        env.getConfig().disableGenericTypes();
        if (checkpointed) {
            env.enableCheckpointing(o.checkpointInterval().toMillis());
            env.getCheckpointConfig().enableUnalignedCheckpoints(mode.contains("unaligned"));
            if (mode.equals(JOB_CKPT_TIMEOUT)) {
                env.getCheckpointConfig().setAlignedCheckpointTimeout(o.alignedCheckpointTimeout());
            }
        }
        SiamstreamJob.Streams streams = SiamstreamJob.build(settings, SiamstreamJob.replaySource(env, settings));
        streams.steps().sinkTo(new StepClock(name)).name("step-clock").setParallelism(1);
        streams.reports().sinkTo(new DiscardingSink<>()).name("discard-reports").setParallelism(1);
        streams.deadLetters().sinkTo(new DiscardingSink<>()).name("discard-dead-letters").setParallelism(1);
        JobGraph graph = env.getStreamGraph().getJobGraph();
        JobID id = cluster.submitJob(graph).get().getJobID();

        // the timed window starts after the warm-up steps and, in checkpointed runs, after the first
        // warmupCheckpoints checkpoints (until the job has taken one, the JIT has not compiled its checkpoint path);
        // runs without checkpoints warm up as long (warmupCheckpoints intervals), so that job-ckpt / job compares like
        // with like. Then it starts at a random point of a checkpoint interval: started right after a checkpoint, a
        // window would always hold fewer checkpoints than its length gives on average.
        int warmupCheckpoints = checkpointed ? o.warmupCheckpoints() : 0;
        long intervalNanos = o.checkpointInterval().toNanos();
        long submitted = System.nanoTime();
        long warmupUntil = submitted + (checkpointed ? 0 : o.warmupCheckpoints() * intervalNanos);
        long deadline = submitted + TimeUnit.MINUTES.toNanos(30);
        long warmupDeadline = submitted + (o.warmupCheckpoints() + 3) * intervalNanos + TimeUnit.MINUTES.toNanos(2);
        SplittableRandom offsets = new SplittableRandom(31L * round + mode.hashCode());
        long startAt = -1;
        long start = -1;
        long completed = 0;
        Load load = null;
        ThreadCpu threads = null;
        long nextStatus = 0;
        while (start < 0 || !clock.containsKey(start + o.steps())) {
            long now = System.nanoTime();
            if (startAt < 0 && clock.containsKey((long) o.warmup()) && completed >= warmupCheckpoints
                    && now >= warmupUntil) {
                startAt = now + offsets.nextLong(intervalNanos);
            }
            if (start < 0 && startAt >= 0 && now >= startAt) {
                long reached = o.warmup();
                while (clock.containsKey(reached + 1)) {
                    reached++;
                }
                start = reached;
                load = Load.start();
                threads = ThreadCpu.start();
            }
            if (startAt < 0 && now > warmupDeadline) {
                throw new IllegalStateException(name + ": " + completed + " of " + warmupCheckpoints
                        + " warm-up checkpoints completed in " + (now - submitted) / 1_000_000_000L + " s; lower"
                        + " --warmup-checkpoints or use unaligned checkpoints");
            }
            // the job's status is an RPC to the JobMaster: asked once a second, not with every look at the clock, so
            // that the benchmark's own polling does not weigh on the job it measures
            if (System.nanoTime() >= nextStatus) {
                JobStatus status = cluster.getJobStatus(id).get();
                if (status.isGloballyTerminalState() || System.nanoTime() > deadline) {
                    throw new IllegalStateException(name + ": job is " + status + " after " + clock.size() + " steps");
                }
                if (startAt < 0 && warmupCheckpoints > 0) {
                    // the running count, which the statistics history's size does not cap
                    completed = BenchProbes.completedCheckpointCount(cluster.getExecutionGraph(id).get());
                }
                nextStatus = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            }
            // the window's bounds come from the steps' own timestamps, so a coarse look suffices: this thread is
            // not part of the job, and at 50 wake-ups a second it preempted the learner's threads hundreds of times
            // a minute
            Thread.sleep(200);
        }
        long total = start + o.steps();
        double foreign = load.foreignShare();
        double cpuMs = load.ownCpuMillis() / o.steps();
        double faults = load.minorFaults() / o.steps();
        double kernel = load.kernelShare();
        Map<String, Double> threadMs = perStep(threads, o.steps());
        long t0 = clock.get(start)[0];
        long t1 = clock.get(total)[0];
        // step clocks are nanoTime, checkpoint triggers wall-clock time: one offset maps the first to the second
        long nowNanos = System.nanoTime();
        long nowMillis = System.currentTimeMillis();
        LongUnaryOperator wallMillis = nanos -> nowMillis - (nowNanos - nanos) / 1_000_000;
        List<Checkpoint> allCompleted = checkpointed ? BenchProbes.completedCheckpoints(
                cluster.getExecutionGraph(id).get(), BenchProbes.trainVertex(graph)) : List.of();
        // the window's statistics take the checkpoints triggered inside it; the pace split takes every completed one,
        // since one triggered before the window still slows its first steps
        long from = wallMillis.applyAsLong(t0);
        long to = wallMillis.applyAsLong(t1);
        List<Checkpoint> stats = allCompleted.stream()
                .filter(c -> c.triggerMillis() >= from && c.triggerMillis() <= to).toList();
        cluster.cancelJob(id).get();
        while (!cluster.getJobStatus(id).get().isGloballyTerminalState()) {
            Thread.sleep(50);
        }
        double[] stepMs = new double[o.steps()];
        double[] wallMs = new double[o.steps()];
        long[] endMillis = new long[o.steps()];
        double learnerMs = 0;
        for (long s = start + 1; s <= total; s++) {
            int i = (int) (s - start - 1);
            stepMs[i] = clock.get(s)[1] / 1e3;
            wallMs[i] = (clock.get(s)[0] - clock.get(s - 1)[0]) / 1e6;
            endMillis[i] = wallMillis.applyAsLong(clock.get(s)[0]);
            learnerMs += stepMs[i];
        }
        double seconds = (t1 - t0) / 1e9;
        CLOCKS.remove(name);
        CheckpointPace pace = allCompleted.isEmpty() ? null : CheckpointPace.of(wallMs, stepMs, endMillis, allCompleted);
        if (pace != null) {
            System.out.println("job-benchmark: round " + round + " " + mode + " " + pace);
        }
        return new Run(mode, round, (double) o.steps() * o.batch() / seconds,
                median(stepMs), learnerMs / 1e3 / seconds, foreign, cpuMs, faults, kernel, stats, threadMs, pace);
    }

    /**
     * The bare learner, on a thread of its own like a Flink task thread ({@code bare}), or on the JVM's main thread
     * ({@code bare-main}; on this machine, under load from other processes, a step on the main thread took up to 4x
     * longer than the same step on any other thread, with 5x the user CPU time on the calling thread).
     */
    private static Run bare(JobSettings settings, List<ViewBatch> batches, Options o, int round, String mode)
            throws InterruptedException {
        if (mode.equals("bare-main")) {
            return timeBare(settings, batches, o, round, "bare-main");
        }
        try {
            return BARE_LEARNER.submit(() -> timeBare(settings, batches, o, round, "bare")).get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    /**
     * The bare learner's thread, one for the whole benchmark like a training task thread for a whole job: it starts
     * the engine's workers once.
     */
    private static final java.util.concurrent.ExecutorService BARE_LEARNER =
            java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "bare-learner");
                t.setDaemon(true);
                return t;
            });

    private static Run timeBare(JobSettings settings, List<ViewBatch> batches, Options o, int round, String mode) {
        try (Learner learner = Learner.create(settings.learner())) {
            double[] stepMs = new double[o.steps()];
            Load load = null;
            ThreadCpu threads = null;
            long t0 = 0;
            for (int i = 0; i < batches.size(); i++) {
                if (i == o.warmup()) {
                    load = Load.start();
                    threads = ThreadCpu.start();
                    t0 = System.nanoTime();
                }
                long s0 = System.nanoTime();
                learner.step(batches.get(i));
                if (i >= o.warmup()) {
                    stepMs[i - o.warmup()] = (System.nanoTime() - s0) / 1e6;
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new Run(mode, round, (double) o.steps() * o.batch() / seconds, median(stepMs), 1.0,
                    load.foreignShare(), load.ownCpuMillis() / o.steps(), load.minorFaults() / o.steps(), load.kernelShare(),
                    List.of(), perStep(threads, o.steps()), null);
        }
    }

    /** CPU ms per timed step by thread group since {@code threads} started (empty where there is no /proc). */
    private static Map<String, Double> perStep(ThreadCpu threads, int steps) {
        Map<String, Double> out = new TreeMap<>();
        if (threads != null) {
            threads.millisByGroup().forEach((group, ms) -> out.put(group, ms / steps));
        }
        return out;
    }

    private static String report(Options o, List<Run> runs) {
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "%s, %d cores; %s, batch %d, %d warm-up + %d timed steps per run"
                        + " (job runs: timed from a random point of a checkpoint interval after %d completed checkpoints,"
                        + " or as many intervals without checkpoints),"
                        + " %d round(s) of %s after %d unreported warm-up round(s); background niceness %d; job parallelism %d (each augmentation operator %d), RocksDB (incremental),"
                        + " managed memory: %s, checkpoint interval %s in job-ckpt runs%n%n",
                java.time.Instant.now().toString().substring(0, 16).replace('T', ' ') + " UTC",
                Runtime.getRuntime().availableProcessors(), o.model(), o.batch(), o.warmup(), o.steps(),
                o.warmupCheckpoints(), o.rounds(),
                String.join(", ", o.modes()), o.warmupRounds(), o.backgroundNiceness(), o.parallelism(), o.viewParallelism(),
                o.managedMemory().isEmpty() ? "the MiniCluster's default" : o.managedMemory(), o.checkpointInterval()));
        md.append("| round | run | pairs/s | median learner step ms | learner busy | JVM CPU ms per step"
                + " | kernel share of it | minor page faults per step | other processes' CPU | checkpoints |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (Run r : runs) {
            md.append(String.format(Locale.ROOT, "| %d | %s | %.1f | %.1f | %.0f%% | %.0f | %.0f%% | %.0f | %.0f%% | %s |%n",
                    r.round(), r.mode(), r.pairsPerSecond(), r.medianStepMs(), 100 * r.learnerShare(), r.cpuMsPerStep(),
                    100 * r.kernelShare(), r.faultsPerStep(), 100 * r.foreignLoad(),
                    r.mode().startsWith("job-ckpt") ? String.valueOf(r.checkpoints().size()) : ""));
        }
        md.append('\n');
        Map<String, Double> medians = new LinkedHashMap<>();
        for (String mode : o.modes()) {
            medians.put(mode, median(runs.stream().filter(r -> r.mode().equals(mode))
                    .mapToDouble(Run::pairsPerSecond).toArray()));
        }
        md.append("| summary (median over rounds) | pairs/s |\n|---|---|\n");
        medians.forEach((mode, v) -> md.append(String.format(Locale.ROOT, "| %s | %.1f |%n", mode, v)));
        for (String mode : List.of("job", "job-ckpt", "job-ckpt-unaligned", JOB_CKPT_TIMEOUT)) {
            if (medians.containsKey(mode) && medians.containsKey("bare")) {
                md.append(String.format(Locale.ROOT, "| %s / bare: median of per-round ratios (min - max) | %s |%n",
                        mode, ratios(runs, mode, "bare")));
            }
        }
        for (String mode : List.of("job-ckpt", "job-ckpt-unaligned", JOB_CKPT_TIMEOUT)) {
            if (medians.containsKey("job") && medians.containsKey(mode)) {
                md.append(String.format(Locale.ROOT, "| %s / job: median of per-round ratios (min - max) | %s |%n",
                        mode, ratios(runs, mode, "job")));
            }
        }
        threadTable(md, o, runs);
        for (String mode : List.of("job-ckpt", "job-ckpt-unaligned", JOB_CKPT_TIMEOUT)) {
            List<Checkpoint> all = runs.stream().filter(r -> r.mode().equals(mode))
                    .flatMap(r -> r.checkpoints().stream()).toList();
            if (all.isEmpty()) {
                continue;
            }
            md.append(String.format(Locale.ROOT, "%n%s: checkpoints completed inside the timed windows (%d), from"
                    + " Flink's checkpoint statistics; sync/async = the training subtask's synchronous part (the learner"
                    + " is copied out of the engine; training waits) and asynchronous part (the learner and RocksDB's"
                    + " files are written):%n%n", mode,
                    all.size()));
            md.append("| | median | min | max |\n|---|---|---|---|\n");
            row(md, "end-to-end duration ms", all.stream().mapToDouble(Checkpoint::endToEndMs).toArray(), "%.0f");
            row(md, "train sync ms", all.stream().mapToDouble(Checkpoint::trainSyncMs).toArray(), "%.0f");
            row(md, "train async ms", all.stream().mapToDouble(Checkpoint::trainAsyncMs).toArray(), "%.0f");
            row(md, "full state MB (whole job)", all.stream().mapToDouble(c -> c.stateBytes() / 1e6).toArray(), "%.1f");
            row(md, "training operator state MB", all.stream().mapToDouble(c -> c.trainStateBytes() / 1e6).toArray(), "%.1f");
            row(md, "checkpointed (uploaded, incremental) MB", all.stream()
                    .mapToDouble(c -> c.checkpointedBytes() / 1e6).toArray(), "%.1f");
            List<CheckpointPace> paces = runs.stream().filter(r -> r.mode().equals(mode) && r.pace() != null)
                    .map(Run::pace).toList();
            if (!paces.isEmpty()) {
                md.append(String.format(Locale.ROOT, "%nThe training pace while checkpoints ran (a step counts from"
                        + " the trigger to %d ms after completion; wall ms per step includes the wait for pairs;"
                        + " medians over runs, min - max):%n%n", CheckpointPace.AFTER_COMPLETION_MS));
                md.append("| | median | min | max |\n|---|---|---|---|\n");
                row(md, "steps per run while a checkpoint ran", paces.stream().mapToDouble(CheckpointPace::nearSteps).toArray(), "%.0f");
                row(md, "wall ms per step while a checkpoint ran", paces.stream().mapToDouble(CheckpointPace::nearWallMs).toArray(), "%.1f");
                row(md, "wall ms per step otherwise", paces.stream().mapToDouble(CheckpointPace::farWallMs).toArray(), "%.1f");
                row(md, "learner step ms while a checkpoint ran", paces.stream().mapToDouble(CheckpointPace::nearLearnerMs).toArray(), "%.1f");
                row(md, "learner step ms otherwise", paces.stream().mapToDouble(CheckpointPace::farLearnerMs).toArray(), "%.1f");
                row(md, "wall ms each checkpoint added to the window", paces.stream().mapToDouble(CheckpointPace::addedMs).toArray(), "%.0f");
            }
        }
        return md.toString();
    }

    /**
     * Where the JVM's CPU goes: ms per timed step by thread group (median over rounds), for the groups that use at
     * least 1 ms per step in some mode. The learner's own work is on the training task thread and the engine's
     * threads; everything else is what the job adds to the bare learner.
     */
    private static void threadTable(StringBuilder md, Options o, List<Run> runs) {
        java.util.SortedSet<String> groups = new java.util.TreeSet<>();
        for (Run r : runs) {
            r.threadCpuMsPerStep().forEach((g, ms) -> {
                if (ms >= 1.0) {
                    groups.add(g);
                }
            });
        }
        if (groups.isEmpty()) {
            return;
        }
        md.append("\nCPU ms per timed step by thread (/proc/self/task; median over rounds; a native thread takes its"
                + " creator's name, so the engine's workers count under the learner's thread, and java is the JVM's"
                + " main thread; rows marked in the kernel: the part of the row above spent in the kernel, not to"
                + " be added to it; rows marked waiting for a core: milliseconds the group's threads were runnable"
                + " but had no core, from schedstat; groups under 1 ms in every mode left out):\n\n| thread |");
        o.modes().forEach(m -> md.append(' ').append(m).append(" |"));
        md.append("\n|---|");
        o.modes().forEach(m -> md.append("---|"));
        md.append('\n');
        for (String g : groups) {
            md.append("| ").append(g).append(" |");
            for (String mode : o.modes()) {
                double v = median(runs.stream().filter(r -> r.mode().equals(mode))
                        .mapToDouble(r -> r.threadCpuMsPerStep().getOrDefault(g, 0.0)).toArray());
                md.append(String.format(Locale.ROOT, " %.1f |", v));
            }
            md.append('\n');
        }
    }

    private static String ratios(List<Run> runs, String over, String under) {
        List<Double> r = new ArrayList<>();
        for (int round = 1; ; round++) {
            int n = round;
            var a = runs.stream().filter(x -> x.round() == n && x.mode().equals(over)).findFirst();
            var b = runs.stream().filter(x -> x.round() == n && x.mode().equals(under)).findFirst();
            if (a.isEmpty() || b.isEmpty()) {
                break;
            }
            r.add(a.get().pairsPerSecond() / b.get().pairsPerSecond());
        }
        double[] v = r.stream().mapToDouble(Double::doubleValue).toArray();
        return String.format(Locale.ROOT, "**%.3f** (%.3f - %.3f)", median(v),
                Arrays.stream(v).min().orElse(Double.NaN), Arrays.stream(v).max().orElse(Double.NaN));
    }

    private static void row(StringBuilder md, String label, double[] values, String fmt) {
        double[] v = Arrays.stream(values).filter(x -> !Double.isNaN(x)).toArray();   // runs that lacked the figure
        md.append(String.format(Locale.ROOT, "| %s | " + fmt + " | " + fmt + " | " + fmt + " |%n", label, median(v),
                Arrays.stream(v).min().orElse(Double.NaN), Arrays.stream(v).max().orElse(Double.NaN)));
    }

    static double median(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** Records when each step's metrics arrive, and the learner's own step time, under a run name. */
    private record StepClock(String name) implements Sink<StepMetrics> {
        @Override
        @SuppressWarnings("deprecation")
        public SinkWriter<StepMetrics> createWriter(InitContext context) {
            return new SinkWriter<>() {
                @Override
                public void write(StepMetrics m, Context ctx) {
                    Map<Long, long[]> clock = CLOCKS.get(name);
                    if (clock != null) {
                        clock.put(m.step, new long[] {System.nanoTime(), Math.round(m.stepMillis * 1e3)});
                    }
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }

    private static void deleteRecursively(Path root) throws IOException {
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
