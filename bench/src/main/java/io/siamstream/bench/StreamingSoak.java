package io.siamstream.bench;

import ai.djl.ndarray.NDManager;
import io.siamstream.bench.BenchProbes.Checkpoint;
import io.siamstream.bench.BenchProbes.Load;
import io.siamstream.job.FaultTolerance;
import io.siamstream.job.JobSettings;
import io.siamstream.job.JobSinks;
import io.siamstream.job.SiamstreamJob;
import io.siamstream.job.SiamstreamOptions;
import io.siamstream.record.ImageRecord;
import io.siamstream.record.StepMetrics;
import io.siamstream.train.Engines;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertexID;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.TimeUtils;

/**
 * A soak run of the real streaming job: {@link SiamstreamJob#build} with the replay source (endless) and the
 * exactly-once file sinks, RocksDB with incremental checkpoints, the job's own fault-tolerance defaults
 * ({@link FaultTolerance}: unaligned checkpoints after a 2-s alignment timeout), on a MiniCluster in this JVM, for
 * {@code --steps} steps, with a task failure injected about every {@code --fail-every} steps ({@link FailAtSeq},
 * after the source).
 *
 * <p>Every {@code --sample-every} it samples, in this process: net training progress (the highest step seen by a tap
 * on the step stream; steps redone after a restore do not count twice), resident memory (VmRSS), the Flink gauges
 * {@code nativeArrays} and {@code lr} of the training operator and the job's {@code numRestarts} (through
 * {@link InProcessMetrics}, a reporter registered in the cluster's configuration; a gauge this build lacks is n/a),
 * the latest completed checkpoint from Flink's checkpoint statistics (end-to-end and the trainer's sync/async
 * duration, full and incrementally checkpointed size, in-flight data of the unaligned checkpoint), and the bytes under
 * the checkpoint directory's {@code shared/} and latest {@code chk-*}. It stops once the file sink has committed step
 * {@code --steps}, cancels the job, and checks the committed {@code steps/} files: every step 1..N exactly once.
 * It prints the lr of the last committed step (N or later) with a PASS/FAIL line: an endless stream needs an lr that
 * never reaches 0, and a cosine ending at N is still slightly positive at N itself.
 *
 * <p>Writes a Markdown report (a row per {@code --report-every} steps, summary, command, machine load) and the raw
 * samples as CSV. Exits 1 if a check fails (the report is written either way), 2 on a job failure or timeout.
 *
 * <p>Usage: {@code StreamingSoak [--steps 10000] [--fail-every 2000] [--checkpoint-interval 10s] [--sample-every 30s]
 * [--report-every 1000] [--out out/soak] [--markdown bench/results/soak.md] [--csv bench/results/soak.csv]
 * [--parallelism 2] [--restart-delay 1s] [--max-minutes 300] [--flink-conf key=value,...] [--command TEXT]
 * [--siamstream.<option> value ...]}; defaults of the job options here: ConvNet, batch 64, endless replay of the
 * bundled sample, an evaluation every 500 steps, no linear probe, CPU. The lr schedule is the job's default.
 */
public final class StreamingSoak {

    private StreamingSoak() {}

    /** What the tap on the step stream saw (the MiniCluster shares this JVM). */
    static final AtomicLong TAP_MAX_STEP = new AtomicLong();
    static final AtomicLong TAP_RECORDS = new AtomicLong();

    private record Options(long steps, long failEvery, Duration checkpointInterval, Duration sampleEvery,
                           long reportEvery, Path out, Path markdown, Path csv, int parallelism, Duration restartDelay,
                           long maxMinutes, String flinkConf, String command, Map<String, String> job) {

        static Options parse(String[] args) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("steps", "10000");
            m.put("fail-every", "2000");
            m.put("checkpoint-interval", "10s");
            m.put("sample-every", "30s");
            m.put("report-every", "1000");
            m.put("out", "out/soak");
            m.put("markdown", "bench/results/soak.md");
            m.put("csv", "");
            m.put("parallelism", "2");
            m.put("restart-delay", "1s");
            m.put("max-minutes", "300");
            m.put("flink-conf", "");
            m.put("command", "");
            Map<String, String> job = new LinkedHashMap<>();
            for (int i = 0; i < args.length; i += 2) {
                String key = args[i].replaceFirst("^--", "");
                if (i + 1 >= args.length || !(m.containsKey(key) || key.startsWith("siamstream."))) {
                    throw new IllegalArgumentException("unknown option or missing value: " + args[i]
                            + "; options: " + m.keySet() + " and --siamstream.<option> value");
                }
                (key.startsWith("siamstream.") ? job : m).put(key, args[i + 1]);
            }
            Path markdown = Path.of(m.get("markdown"));
            Path csv = m.get("csv").isEmpty()
                    ? markdown.resolveSibling(markdown.getFileName().toString().replaceFirst("\\.md$", "") + ".csv")
                    : Path.of(m.get("csv"));
            return new Options(Long.parseLong(m.get("steps")), Long.parseLong(m.get("fail-every")),
                    TimeUtils.parseDuration(m.get("checkpoint-interval")), TimeUtils.parseDuration(m.get("sample-every")),
                    Long.parseLong(m.get("report-every")), Path.of(m.get("out")), markdown, csv,
                    Integer.parseInt(m.get("parallelism")), TimeUtils.parseDuration(m.get("restart-delay")),
                    Long.parseLong(m.get("max-minutes")), m.get("flink-conf"), m.get("command"), job);
        }
    }

    /** One sample; NaN or -1 where a figure is not (yet) there. */
    record Sample(double elapsedS, long step, long committedStep, double stepsPerS, double pairsPerS, long rssMiB,
                  long heapUsedMiB, long heapCommittedMiB, int engineArrays, double nativeArrays, double lr, double restarts, int injected, long completedCheckpoints,
                  Checkpoint checkpoint, long sharedBytes, long latestChkBytes, long checkpointDirBytes,
                  double otherLoad, String status) {

        static final String CSV_HEADER = "elapsed_s,step,committed_step,steps_per_s,pairs_per_s,rss_mib,heap_used_mib,heap_committed_mib,engine_arrays,"
                + "native_arrays,lr,"
                + "restarts,injected_failures,checkpoints_completed,ckpt_id,ckpt_end_to_end_ms,ckpt_train_sync_ms,"
                + "ckpt_train_async_ms,ckpt_state_bytes,ckpt_checkpointed_bytes,ckpt_train_state_bytes,"
                + "ckpt_persisted_inflight_bytes,shared_dir_bytes,latest_chk_dir_bytes,checkpoint_dir_bytes,"
                + "other_load,job_status";

        String csv() {
            Checkpoint c = checkpoint;
            return String.format(Locale.ROOT, "%.1f,%d,%d,%.3f,%.1f,%d,%d,%d,%d,%s,%s,%s,%d,%d,%s,%s,%s,%s,%s,%s,%s,%s,%d,%d,%d,%.3f,%s",
                    elapsedS, step, committedStep, stepsPerS, pairsPerS, rssMiB, heapUsedMiB, heapCommittedMiB,
                    engineArrays, num(nativeArrays, "%.0f"),
                    num(lr, "%.6g"), num(restarts, "%.0f"), injected, completedCheckpoints,
                    c == null ? "" : c.id(), c == null ? "" : c.endToEndMs(), c == null ? "" : c.trainSyncMs(),
                    c == null ? "" : c.trainAsyncMs(), c == null ? "" : c.stateBytes(),
                    c == null ? "" : c.checkpointedBytes(), c == null ? "" : c.trainStateBytes(),
                    c == null ? "" : c.persistedBytes(), sharedBytes, latestChkBytes, checkpointDirBytes, otherLoad,
                    status);
        }
    }

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        Configuration jobOptions = new Configuration();
        jobOptions.set(SiamstreamOptions.ENCODER, "convnet");
        jobOptions.set(SiamstreamOptions.BATCH_SIZE, 64);
        jobOptions.set(SiamstreamOptions.EPOCHS, 0L);                 // endless replay of the bundled sample
        jobOptions.set(SiamstreamOptions.PUBLISH_EVERY, 500);
        jobOptions.set(SiamstreamOptions.LINEAR_EVERY, 0);
        jobOptions.set(SiamstreamOptions.DEVICE, "cpu");
        jobOptions.set(SiamstreamOptions.OUTPUT, o.out().toString());
        o.job().forEach(jobOptions::setString);
        JobSettings settings = JobSettings.from(jobOptions);
        int batch = settings.learner().batchSize();

        Path out = o.out().toAbsolutePath();
        for (String sub : List.of("steps", "reports", "dead-letters", "checkpoints")) {
            deleteRecursively(out.resolve(sub)); // a previous soak's files would be counted
        }
        Path checkpoints = out.resolve("checkpoints");
        Files.createDirectories(checkpoints);
        FailAtSeq.FIRED.clear();
        // every live NDArray of the PyTorch engine in this JVM (the job's learners and evaluators share it: the
        // MiniCluster loads DJL from the application class path), as NativeMemorySoak counts them
        NDManager probe = Engines.pyTorch().newBaseManager();
        NDManager engine = probe.getParentManager();
        probe.close();

        String reporter = "metrics.reporter.soak.factory.class=" + InProcessMetrics.FACTORY;
        String flinkConf = o.flinkConf().isBlank() ? reporter : reporter + "," + o.flinkConf();
        System.err.printf(Locale.ROOT, "soak: %d steps, %s, batch %d, a failure every %d steps, checkpoints every %s,"
                        + " a sample every %s, output %s, %d cores%n", o.steps(), settings.learner().encoder().kind(),
                batch, o.failEvery(), o.checkpointInterval(), o.sampleEvery(), out,
                Runtime.getRuntime().availableProcessors());

        List<Sample> samples = new ArrayList<>();
        StepLedger ledger = new StepLedger();
        Map<String, String> applied;
        String outcome;
        double restartsSeen;
        long injected;
        Load whole;
        String loadAvgStart = loadAverage();
        Instant started = Instant.now();
        double elapsedS;
        try (MiniCluster cluster = JobThroughputBenchmark.startCluster(checkpoints, "", flinkConf)) {
            Configuration conf = new Configuration();
            for (String pair : o.flinkConf().split(",")) {
                if (!pair.isBlank()) {
                    String[] kv = pair.split("=", 2);
                    conf.setString(kv[0].trim(), kv[1].trim());
                }
            }
            conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, o.checkpointInterval());
            if (!conf.containsKey(CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS.key())) {
                // the job's default pause (10 s, made for its 1-minute interval) would stretch a shorter interval
                conf.set(CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS, Duration.ZERO);
            }
            if (!conf.containsKey(RestartStrategyOptions.RESTART_STRATEGY.key())) {
                // every injected failure restarts at once; the job's exponential back-off would grow to minutes
                conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
                conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, Integer.MAX_VALUE);
                conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, o.restartDelay());
            }
            conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
            conf.setString("pipeline.generic-types", "false");
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
            env.setParallelism(o.parallelism());
            // the job's defaults: unaligned after 2 s, incremental, RocksDB
            applied = FaultTolerance.apply(env, settings.output());
            env.getConfig().disableGenericTypes();

            DataStream<ImageRecord> images = SiamstreamJob.replaySource(env, settings)
                    .map(new FailAtSeq(o.failEvery() * batch)).returns(TypeInformation.of(ImageRecord.class))
                    .uid("soak-inject-failure").name("inject failure");
            SiamstreamJob.Streams streams = SiamstreamJob.build(settings, images, JobSinks.files(out.toString()));
            streams.steps().sinkTo(new StepTap()).uid("soak-step-tap").name("step tap").setParallelism(1);
            JobGraph graph = env.getStreamGraph().getJobGraph();
            JobVertexID train = BenchProbes.trainVertex(graph);
            TAP_MAX_STEP.set(0);
            TAP_RECORDS.set(0);
            JobID id = cluster.submitJob(graph).get().getJobID();
            Path jobCheckpoints = checkpoints.resolve(id.toHexString());

            whole = Load.start();
            Load interval = Load.start();
            long t0 = System.nanoTime();
            long deadline = t0 + TimeUnit.MINUTES.toNanos(o.maxMinutes());
            long nextSample = t0 + o.sampleEvery().toNanos();
            long lastStep = 0;
            double lastT = 0;
            JobStatus status;
            while (true) {
                Thread.sleep(1000);
                status = cluster.getJobStatus(id).get();
                ledger.readNew(out.resolve("steps"));
                boolean done = ledger.maxStep() >= o.steps();
                boolean broken = status.isGloballyTerminalState() || System.nanoTime() > deadline;
                if (System.nanoTime() >= nextSample || done || broken) {
                    double t = (System.nanoTime() - t0) / 1e9;
                    long step = TAP_MAX_STEP.get();
                    double rate = t > lastT ? (step - lastStep) / (t - lastT) : Double.NaN;
                    AccessExecutionGraph eg = status.isGloballyTerminalState() ? null : cluster.getExecutionGraph(id).get();
                    Checkpoint latest = eg == null ? null : BenchProbes.latestCheckpoint(eg, train);
                    long completed = eg == null || eg.getCheckpointStatsSnapshot() == null ? -1
                            : eg.getCheckpointStatsSnapshot().getCounts().getNumberOfCompletedCheckpoints();
                    Path chk = latestChk(jobCheckpoints);
                    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
                    Sample s = new Sample(t, step, ledger.maxStep(), rate, rate * batch, BenchProbes.rssMiB(),
                            heap.getUsed() >> 20, heap.getCommitted() >> 20, engineArrays(engine), nan(InProcessMetrics.gauge("nativeArrays")), nan(InProcessMetrics.gauge("lr")),
                            nan(InProcessMetrics.gauge("numRestarts")), FailAtSeq.FIRED.size(), completed, latest,
                            BenchProbes.directoryBytes(jobCheckpoints.resolve("shared")),
                            BenchProbes.directoryBytes(chk), BenchProbes.directoryBytes(jobCheckpoints),
                            interval.foreignShare(), status.name());
                    samples.add(s);
                    interval = Load.start();
                    lastStep = step;
                    lastT = t;
                    nextSample += o.sampleEvery().toNanos();
                    System.err.printf(Locale.ROOT, "soak: %6.0f s step %d (committed %d), %.2f steps/s, RSS %d MiB"
                                    + " (heap %d), engine arrays %d, native arrays %s, lr %s, restarts %s, checkpoint %s, shared/ %.1f MB, other load %.0f%%%n",
                            t, step, s.committedStep(), rate, s.rssMiB(), s.heapCommittedMiB(), s.engineArrays(), num(s.nativeArrays(), "%.0f"),
                            num(s.lr(), "%.4g"), num(s.restarts(), "%.0f"),
                            latest == null ? "none" : latest.id() + " (" + latest.endToEndMs() + " ms, "
                                    + String.format(Locale.ROOT, "%.1f MB incremental)", latest.checkpointedBytes() / 1e6),
                            s.sharedBytes() / 1e6, 100 * s.otherLoad());
                }
                if (done || broken) {
                    break;
                }
            }
            elapsedS = (System.nanoTime() - t0) / 1e9;
            restartsSeen = nan(InProcessMetrics.gauge("numRestarts"));
            injected = FailAtSeq.FIRED.size();
            if (ledger.maxStep() >= o.steps()) {
                outcome = "completed";
            } else if (status.isGloballyTerminalState()) {
                outcome = "the job ended " + status + " at committed step " + ledger.maxStep();
            } else {
                outcome = "stopped after --max-minutes " + o.maxMinutes() + " at committed step " + ledger.maxStep();
            }
            if (!status.isGloballyTerminalState()) {
                cluster.cancelJob(id).get();
                while (!cluster.getJobStatus(id).get().isGloballyTerminalState()) {
                    Thread.sleep(50);
                }
            }
        }
        ledger.readNew(out.resolve("steps"));
        StepLedger.Verdict verdict = ledger.check(o.steps());
        // the last committed step: the job runs on past --steps until a checkpoint commits it, and a schedule that
        // ends at step N (cosine to 0) still gives a tiny positive lr at N itself, but 0 from N + 1 on
        long lastStep = Math.max(o.steps(), ledger.maxStep());
        double lastLr = ledger.lr(lastStep);
        String lrLine = String.format(Locale.ROOT, "%s: %s at step %d (step %d: %s; step 1: %s, so %s of it)",
                lastLr > 0 ? "PASS" : "FAIL", num(lastLr, "%.6g"), lastStep, o.steps(), num(ledger.lr(o.steps()), "%.6g"),
                num(ledger.lr(1), "%.6g"), num(100 * lastLr / ledger.lr(1), "%.3g%%"));
        String report = report(o, settings, applied, samples, verdict, lrLine, restartsSeen, injected, outcome,
                elapsedS, whole, loadAvgStart, started, reports(out.resolve("reports")));
        System.out.println(report);
        Files.createDirectories(o.markdown().toAbsolutePath().getParent());
        Files.writeString(o.markdown(), report);
        StringBuilder csv = new StringBuilder(Sample.CSV_HEADER).append('\n');
        samples.forEach(s -> csv.append(s.csv()).append('\n'));
        Files.createDirectories(o.csv().toAbsolutePath().getParent());
        Files.writeString(o.csv(), csv);
        boolean pass = verdict.exactlyOnce() && lastLr > 0;
        System.exit(!outcome.equals("completed") ? 2 : pass ? 0 : 1); // RocksDB and Flink leave threads behind
    }

    private static String report(Options o, JobSettings settings, Map<String, String> applied, List<Sample> samples,
                                 StepLedger.Verdict verdict, String lrLine, double restartsSeen, long injected,
                                 String outcome, double elapsedS, Load whole, String loadAvgStart, Instant started,
                                 List<String> evalReports) {
        StringBuilder md = new StringBuilder();
        int batch = settings.learner().batchSize();
        md.append(String.format(Locale.ROOT, "# Soak: the streaming job for %d steps with a failure every %d steps%n%n",
                o.steps(), o.failEvery()));
        md.append(String.format(Locale.ROOT, "%s, %d cores. SimSiam, %s, batch %d, endless replay (epochs %d) of %s %s,"
                        + " an evaluation every %d steps (linear probe: %s), the job's"
                        + " default lr schedule unless set (`%s`); job parallelism %d; RocksDB (incremental),"
                        + " checkpoints every %s (%s), restarts: %s; a sample every %s. Outcome: **%s** after %.0f s"
                        + " (%.1f min).%n%n",
                started.toString().substring(0, 16).replace('T', ' ') + " UTC", Runtime.getRuntime().availableProcessors(),
                settings.learner().encoder().kind().toString().toLowerCase(Locale.ROOT), batch, settings.epochs(),
                settings.format(), settings.data(), settings.publishEvery(),
                settings.linearEvery() == 0 ? "never" : "every " + settings.linearEvery() + " evaluations",
                settings.learner().optimizer(),
                o.parallelism(), TimeUtils.formatWithHighestUnit(o.checkpointInterval()),
                "unaligned " + applied.getOrDefault(CheckpointingOptions.ENABLE_UNALIGNED.key(), "(as configured)"),
                o.flinkConf().contains("restart-strategy") ? "as configured"
                        : "fixed-delay " + TimeUtils.formatWithHighestUnit(o.restartDelay()) + ", unlimited attempts",
                TimeUtils.formatWithHighestUnit(o.sampleEvery()), outcome, elapsedS, elapsedS / 60));
        md.append("Command: `").append(o.command().isBlank() ? "StreamingSoak " + String.join(" ", commandArgs(o))
                : o.command()).append("`\n\n");

        md.append(String.format(Locale.ROOT, "## Over time (the first sample at or after every %d steps, and the last)%n%n",
                o.reportEvery()));
        md.append("steps/s: net progress (highest step seen on the step stream) since the previous row; checkpoint"
                + " figures: the latest completed checkpoint in Flink's statistics (end-to-end; the trainer's synchronous /"
                + " asynchronous part; full state; incrementally checkpointed = uploaded; in-flight data of the unaligned"
                + " barrier); shared/ and chk-*: bytes on disk under the job's checkpoint directory.\n\n");
        md.append("| step | elapsed s | steps/s | RSS MiB | heap MiB used / committed | engine arrays | native arrays | lr | restarts | ckpt id | end-to-end ms"
                + " | sync / async ms | full state MB | incremental MB | in-flight MB | shared/ MB | latest chk-* MB"
                + " | other load |\n");
        md.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        List<Sample> rows = rows(samples, o.reportEvery());
        Sample previous = null;
        for (Sample s : rows) {
            double rate = previous == null ? (s.elapsedS() > 0 ? s.step() / s.elapsedS() : Double.NaN)
                    : (s.step() - previous.step()) / (s.elapsedS() - previous.elapsedS());
            Checkpoint c = s.checkpoint();
            md.append(String.format(Locale.ROOT, "| %d | %.0f | %.2f | %d | %d / %d | %d | %s | %s | %s | %s | %s | %s | %s"
                            + " | %s | %s | %.1f | %.1f | %.0f%% |%n", s.step(), s.elapsedS(), rate, s.rssMiB(),
                    s.heapUsedMiB(), s.heapCommittedMiB(), s.engineArrays(),
                    num(s.nativeArrays(), "%.0f"), num(s.lr(), "%.4g"), num(s.restarts(), "%.0f"),
                    c == null ? "-" : c.id(), c == null ? "-" : c.endToEndMs(),
                    c == null ? "-" : c.trainSyncMs() + " / " + c.trainAsyncMs(),
                    c == null ? "-" : String.format(Locale.ROOT, "%.1f", c.stateBytes() / 1e6),
                    c == null ? "-" : String.format(Locale.ROOT, "%.1f", c.checkpointedBytes() / 1e6),
                    c == null ? "-" : String.format(Locale.ROOT, "%.1f", c.persistedBytes() / 1e6),
                    s.sharedBytes() / 1e6, s.latestChkBytes() / 1e6, 100 * s.otherLoad()));
            previous = s;
        }

        md.append("\n## Summary\n\n");
        md.append("| check | result |\n|---|---|\n");
        md.append("| every step exactly once in the committed steps/ files | ").append(verdict.describe()).append(" |\n");
        md.append("| lr of the last committed step (an endless stream needs lr > 0) | ").append(lrLine).append(" |\n");
        md.append(String.format(Locale.ROOT, "| restarts (Flink's numRestarts) / failures injected | %s / %d |%n",
                num(restartsSeen, "%.0f"), injected));
        if (!samples.isEmpty()) {
            Sample last = samples.get(samples.size() - 1);
            md.append(String.format(Locale.ROOT, "| net steps/s over the run (pairs/s) | %.2f (%.1f) |%n",
                    last.step() / last.elapsedS(), last.step() * batch / last.elapsedS()));
            md.append(String.format(Locale.ROOT, "| checkpoints completed | %d |%n", last.completedCheckpoints()));
            md.append("| resident memory (VmRSS) MiB: first / second half min - max / last | ").append(halves(samples,
                    s -> (double) s.rssMiB(), "%.0f")).append(" |\n");
            md.append("| JVM heap committed MiB: first / second half min - max / last | ").append(halves(samples,
                    s -> (double) s.heapCommittedMiB(), "%.0f")).append(" |\n");
            md.append("| live NDArrays of the whole engine: first / second half min - max / last | ").append(halves(
                    samples, s -> s.engineArrays() < 0 ? Double.NaN : s.engineArrays(), "%.0f")).append(" |\n");
            md.append("| native arrays (the trainer's `nativeArrays` gauge) | ").append(
                    samples.stream().allMatch(s -> Double.isNaN(s.nativeArrays())) ? "n/a (this build has no such gauge)"
                            : halves(samples, Sample::nativeArrays, "%.0f")).append(" |\n");
            md.append("| checkpoint end-to-end ms: first / second half min - max | ").append(halves(samples,
                    s -> s.checkpoint() == null ? Double.NaN : s.checkpoint().endToEndMs(), "%.0f")).append(" |\n");
            md.append("| full checkpoint state MB: first / second half min - max | ").append(halves(samples,
                    s -> s.checkpoint() == null ? Double.NaN : s.checkpoint().stateBytes() / 1e6, "%.1f")).append(" |\n");
            md.append("| incrementally checkpointed MB: first / second half min - max | ").append(halves(samples,
                    s -> s.checkpoint() == null ? Double.NaN : s.checkpoint().checkpointedBytes() / 1e6, "%.1f"))
                    .append(" |\n");
            md.append("| shared/ MB on disk: first / second half min - max | ").append(halves(samples,
                    s -> s.sharedBytes() / 1e6, "%.1f")).append(" |\n");
            md.append("| latest chk-* MB on disk: first / second half min - max | ").append(halves(samples,
                    s -> s.latestChkBytes() / 1e6, "%.1f")).append(" |\n");
        }
        if (!evalReports.isEmpty()) {
            md.append(String.format(Locale.ROOT, "| evaluation reports committed (last) | %d (`%s`) |%n",
                    evalReports.size(), evalReports.get(evalReports.size() - 1)));
        }
        md.append(String.format(Locale.ROOT, "%n## Machine load%n%nOther processes used %.0f%% of the machine's %d cores"
                        + " during the run, this JVM %.0f%% (from /proc/stat and the JVM's CPU time); load average at the"
                        + " start %s, at the end %s. On a shared machine steps/s and checkpoint durations move with the"
                        + " other load (per-row column above); memory, array counts and sizes do not.%n",
                100 * whole.foreignShare(), Runtime.getRuntime().availableProcessors(), 100 * whole.ownShare(),
                loadAvgStart, loadAverage()));
        return md.toString();
    }

    /** The first sample at or after each multiple of {@code every} steps, and the last sample. */
    static List<Sample> rows(List<Sample> samples, long every) {
        List<Sample> rows = new ArrayList<>();
        long next = every;
        for (Sample s : samples) {
            if (s.step() >= next) {
                rows.add(s);
                while (next <= s.step()) {
                    next += every;
                }
            }
        }
        if (!samples.isEmpty()) {
            Sample last = samples.get(samples.size() - 1);
            if (rows.isEmpty() || last.step() - rows.get(rows.size() - 1).step() >= Math.max(1, every / 10)) {
                rows.add(last);
            }
        }
        return rows;
    }

    /** "first-half min - max / second-half min - max / last" of a figure over the samples (NaN ones skipped). */
    private static String halves(List<Sample> samples, java.util.function.ToDoubleFunction<Sample> f, String fmt) {
        int mid = samples.size() / 2;
        double[] a = samples.subList(0, mid).stream().mapToDouble(f).filter(Double::isFinite).toArray();
        double[] b = samples.subList(mid, samples.size()).stream().mapToDouble(f).filter(Double::isFinite).toArray();
        double last = f.applyAsDouble(samples.get(samples.size() - 1));
        return range(a, fmt) + " / " + range(b, fmt) + " / " + num(last, fmt);
    }

    private static String range(double[] v, String fmt) {
        if (v.length == 0) {
            return "n/a";
        }
        return String.format(Locale.ROOT, fmt + " - " + fmt, Arrays.stream(v).min().getAsDouble(),
                Arrays.stream(v).max().getAsDouble());
    }

    private static List<String> commandArgs(Options o) {
        List<String> a = new ArrayList<>(List.of("--steps", "" + o.steps(), "--fail-every", "" + o.failEvery(),
                "--checkpoint-interval", o.checkpointInterval().toSeconds() + "s", "--sample-every",
                o.sampleEvery().toSeconds() + "s", "--report-every", "" + o.reportEvery()));
        o.job().forEach((k, v) -> a.addAll(List.of("--" + k, v)));
        return a;
    }

    private static List<String> reports(Path folder) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.exists(folder)) {
            return out;
        }
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path f : files.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted().toList()) {
                out.addAll(Files.readAllLines(f).stream().filter(l -> !l.isBlank()).toList());
            }
        }
        out.sort(Comparator.comparingLong(StreamingSoak::version));
        return out;
    }

    private static long version(String reportLine) {
        var m = java.util.regex.Pattern.compile("\"version\":(\\d+)").matcher(reportLine);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /** The highest-numbered chk-N folder of the job's checkpoint directory (null if none). */
    private static Path latestChk(Path jobCheckpoints) throws IOException {
        if (!Files.isDirectory(jobCheckpoints)) {
            return null;
        }
        try (Stream<Path> dirs = Files.list(jobCheckpoints)) {
            return dirs.filter(p -> p.getFileName().toString().matches("chk-\\d+"))
                    .max(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(4))))
                    .orElse(null);
        } catch (java.io.UncheckedIOException e) {
            return null;
        }
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " / " + f[1] + " / " + f[2] + " (1 / 5 / 15 min)";
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }

    /** Live NDArrays of the engine (all managers); -1 if they cannot be listed while the job changes them. */
    private static int engineArrays(NDManager engine) {
        try {
            return engine.getManagedArrays().size();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private static double nan(OptionalDouble v) {
        return v.isPresent() ? v.getAsDouble() : Double.NaN;
    }

    private static String num(double v, String fmt) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, fmt, v);
    }

    private static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Records the highest step seen on the step stream (steps redone after a restore arrive again). */
    private static final class StepTap implements Sink<StepMetrics> {
        private static final long serialVersionUID = 1L;

        @Override
        @SuppressWarnings("deprecation")
        public SinkWriter<StepMetrics> createWriter(InitContext context) {
            return new SinkWriter<>() {
                @Override
                public void write(StepMetrics m, Context ctx) {
                    TAP_RECORDS.incrementAndGet();
                    TAP_MAX_STEP.accumulateAndGet(m.step, Math::max);
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }
}
