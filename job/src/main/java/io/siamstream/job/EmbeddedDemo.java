package io.siamstream.job;

import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.utils.ParameterTool;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.ExecutionCheckpointingOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.PrintSink;
import org.apache.flink.streaming.api.graph.StreamGraph;

/**
 * The embedded default: the streaming job on a local MiniCluster, on the bundled Fashion-MNIST sample (or the
 * dataset given by {@code --siamstream.source.format} and {@code --siamstream.data}), on the CPU,
 * with RocksDB state and checkpoints every 10 s. Prints a progress line and leaves steps/, reports/ and
 * dead-letters/ (JSON lines) in the output folder and, unless model export is off, the committed model versions
 * (models/ by default) and their announcements (model-updates/). Flags: {@code --siamstream.<option> value}
 * (see {@link SiamstreamOptions}); the defaults here are 5 epochs, batch 128, an evaluation every 25 steps.
 *
 * <p>The MiniCluster is started here rather than by a local environment, so that it outlives the job: its web UI
 * (localhost, {@code --rest.port}, default 8081, a free port when that is taken) and its checkpoint statistics are
 * there until the end, when the last checkpoints go to checkpoints.jsonl and report.html is written a last time.
 */
public final class EmbeddedDemo {

    private EmbeddedDemo() {}

    public static void main(String[] args) throws Exception {
        Configuration conf = new Configuration();
        conf.set(SiamstreamOptions.EPOCHS, 5L);
        conf.set(SiamstreamOptions.PUBLISH_EVERY, 25);
        conf.set(SiamstreamOptions.DEVICE, "cpu");
        conf.set(SiamstreamOptions.OUTPUT, "out/siamstream-demo");
        conf.addAll(ParameterTool.fromArgs(args).getConfiguration());
        JobSettings settings = JobSettings.from(conf);

        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, Path.of(settings.output(), "checkpoints").toUri().toString());
        conf.set(ExecutionCheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(10));
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, 4);
        conf.setString("pipeline.generic-types", "false");
        // the report records every checkpoint; the statistics keep only the last N, and a poll may come late
        conf.set(WebOptions.CHECKPOINTS_HISTORY_SIZE, 1000);
        int wantedPort = conf.getOptional(RestOptions.PORT).orElse(WebUi.DEFAULT_PORT);
        int port = WebUi.configure(conf);

        try (MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder().setConfiguration(conf)
                .setNumTaskManagers(1).setNumSlotsPerTaskManager(conf.get(TaskManagerOptions.NUM_TASK_SLOTS)).build())) {
            cluster.start();
            System.out.println("Flink web UI: " + cluster.getRestAddress().get() + " (while the demo runs"
                    + (port == wantedPort ? "" : "; port " + wantedPort + " is taken") + ")");
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
            env.setParallelism(2);

            System.out.printf("siamstream embedded demo: %s, %s, %s %s (%dx%dx%d), %d epoch(s), batch %d, output %s%n",
                    settings.learner().method().name(), settings.learner().encoder().kind(), settings.format(),
                    settings.data(), settings.channels(), settings.imageSize(), settings.imageSize(), settings.epochs(),
                    settings.learner().batchSize(), settings.output());
            SiamstreamJob.Streams streams = SiamstreamJob.build(settings, SiamstreamJob.replaySource(env, settings),
                    JobSinks.files(settings.output(), ExportSettings.from(conf, settings)));
            streams.steps().connect(streams.reports())
                    .process(new ProgressLine(10), Types.STRING)
                    .uid("progress").name("progress").setParallelism(1)
                    .sinkTo(new PrintSink<>()).setParallelism(1);
            StreamGraph graph = env.getStreamGraph();
            graph.setJobName("siamstream embedded demo");
            JobID job = cluster.submitJob(graph.getJobGraph()).get().getJobID();

            CheckpointLog checkpoints = new CheckpointLog(Path.of(settings.output()));
            ReportRefresher report = conf.get(SiamstreamOptions.REPORT) ? ReportRefresher.forOutput(settings) : null;
            ReportRefresher.watch(report, () -> {
                try {
                    boolean ended = cluster.getJobStatus(job).get().isGloballyTerminalState();
                    checkpoints.record(cluster.getExecutionGraph(job).get());   // after the end too: the last ones
                    return ended;
                } catch (Exception e) {
                    throw new IllegalStateException("the MiniCluster did not answer about job " + job, e);
                }
            }, 2000);
            // throws the job's failure, if it failed
            cluster.requestJobResult(job).get().toJobExecutionResult(EmbeddedDemo.class.getClassLoader());
        }
        System.out.println("done: step metrics, evaluation reports and dead letters are in " + settings.output()
                + "; checkpoints in " + Path.of(settings.output(), "checkpoints.jsonl") + "; the report in "
                + Path.of(settings.output(), "report.html"));
    }

}
