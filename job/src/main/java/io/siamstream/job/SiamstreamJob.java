package io.siamstream.job;

import io.siamstream.connectors.files.FlinkFileSystemStore;
import io.siamstream.connectors.model.CommittedArtifactLoader;
import io.siamstream.connectors.replay.DatasetReplaySource;
import io.siamstream.connectors.replay.ReplayDataset;
import io.siamstream.eval.EvaluationSet;
import io.siamstream.flink.AugmentationTopology;
import io.siamstream.flink.DeadLetters;
import io.siamstream.flink.EmbeddingOperator;
import io.siamstream.flink.EvaluationOperator;
import io.siamstream.flink.TrainingOperator;
import io.siamstream.record.CatalogueMarker;
import io.siamstream.record.DeadLetter;
import io.siamstream.record.Embedding;
import io.siamstream.record.EvalReport;
import io.siamstream.record.ImageRecord;
import io.siamstream.record.ModelUpdate;
import io.siamstream.record.StepMetrics;
import io.siamstream.record.ViewPair;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.utils.ParameterTool;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.function.SerializableSupplier;

/**
 * The siamstream streaming job: images are replayed (or read), two views are made by parallel augmentation
 * operators and paired, a keyed training operator learns on them (SimSiam, BYOL, SimCLR or MoCo v2) with its state
 * in checkpoints, model updates leave on a side output for evaluation on a frozen encoder and, where model export is
 * on, for the model artifact sink, whose committed versions an optional embedding operator follows to embed a second
 * image stream; step metrics, evaluation reports, embeddings and dead letters go to the sinks. {@link #build} takes
 * the image streams and the sinks, so tests can swap them.
 */
public final class SiamstreamJob {

    /** The operator uids: stable across versions so savepoints restore. */
    public static final String SOURCE_UID = "source";
    public static final String TRAIN_UID = "train";
    public static final String EVALUATE_UID = "evaluate";

    private SiamstreamJob() {}

    /** All model replicas are key 0 for now: one learner, trained in one slot. */
    public static final class ByReplica implements KeySelector<ViewPair, Integer> {
        @Override
        public Integer getKey(ViewPair pair) {
            return 0;
        }
    }

    /** The streams the job produces (before they reach the sinks). */
    public record Streams(DataStream<StepMetrics> steps, DataStream<ModelUpdate> models, DataStream<EvalReport> reports,
                          DataStream<DeadLetter> deadLetters) {}

    /** Where evaluation is off (an unlabelled image folder): model updates are evaluated by nobody, no report is made. */
    public static final class NoEvaluation extends ProcessFunction<ModelUpdate, EvalReport> {
        private static final long serialVersionUID = 1L;

        @Override
        public void processElement(ModelUpdate update, Context ctx, Collector<EvalReport> out) {}
    }

    /**
     * The default image stream: the dataset replay source (Fashion-MNIST, CIFAR-10 or an image folder, as
     * configured). Bad input in the files becomes records with an error, which the augmentation stage dead-letters.
     */
    public static DataStream<ImageRecord> replaySource(StreamExecutionEnvironment env, JobSettings settings) {
        ReplayDataset dataset = settings.dataset();
        return env.fromSource(new DatasetReplaySource(dataset, settings.seed(), settings.epochs(), settings.splits()),
                        WatermarkStrategy.noWatermarks(), "replay " + dataset, TypeInformation.of(ImageRecord.class))
                .uid(SOURCE_UID);
    }

    /** The job's streams with the standard evaluation (kNN, linear probe, feature std), or none where there is no data for it. */
    public static Streams build(JobSettings settings, DataStream<ImageRecord> images) {
        return build(settings, images, standardEvaluator(settings));
    }

    /**
     * The kNN / linear probe / feature-std evaluation of the settings' evaluation data, or null where there is none
     * or evaluation is off ({@code siamstream.eval.enabled}).
     */
    private static EvaluationOperator standardEvaluator(JobSettings settings) {
        if (!settings.evaluate()) {
            return null;
        }
        SerializableSupplier<EvaluationSet> evaluation = settings.evaluation();
        return evaluation == null ? null
                : EvaluationOperator.standard(settings.learner(), evaluation, settings.linearEvery());
    }

    /**
     * The job's streams with {@code evaluator} evaluating the model updates (null: evaluation off). The evaluator
     * works on the latest version only and never holds the trainer back (see {@link EvaluationOperator}).
     */
    public static Streams build(JobSettings settings, DataStream<ImageRecord> images, EvaluationOperator evaluator) {
        return build(settings, images, evaluator, false);
    }

    /** As {@link #build(JobSettings, DataStream, EvaluationOperator)}; {@code heads}: updates also carry the heads. */
    private static Streams build(JobSettings settings, DataStream<ImageRecord> images, EvaluationOperator evaluator,
                                 boolean heads) {
        AugmentationTopology.Result views = AugmentationTopology.build(images, settings.view1Policy(), settings.view2Policy(),
                settings.seed(), settings.channels(), settings.imageSize(), settings.imageSize(),
                settings.view1Parallelism(), settings.view2Parallelism(),
                settings.pairTimeout());
        SingleOutputStreamOperator<StepMetrics> steps = views.pairs()
                .keyBy(new ByReplica(), Types.INT)
                .transform("train", TypeInformation.of(StepMetrics.class),
                        new TrainingOperator(settings.learner(), settings.sequenceBatching(), settings.publishEvery(),
                                TrainingOperator.DEFAULT_MAX_CHUNK_BYTES, settings.maxPendingPairs()).withHeads(heads)
                                .withBackgroundNiceness(settings.backgroundNiceness()))
                .uid(TRAIN_UID)
                .setParallelism(1)
                .setMaxParallelism(1);
        DataStream<ModelUpdate> models = steps.getSideOutput(TrainingOperator.MODEL_UPDATES);
        DataStream<EvalReport> reports = (evaluator == null
                        ? models.process(new NoEvaluation(), TypeInformation.of(EvalReport.class))
                        : models.transform("evaluate", TypeInformation.of(EvalReport.class), evaluator))
                .uid(EVALUATE_UID)
                .name(evaluator == null ? "evaluate (off)" : "evaluate")
                .setParallelism(1);
        DataStream<DeadLetter> deadLetters = views.deadLetters().union(steps.getSideOutput(DeadLetters.TAG));
        return new Streams(steps, models, reports, deadLetters);
    }

    public static Streams build(JobSettings settings, DataStream<ImageRecord> images, JobSinks sinks) {
        return build(settings, images, sinks, standardEvaluator(settings));
    }

    /** As {@link #build(JobSettings, DataStream, JobSinks)}, with {@code evaluator} (null: evaluation off). */
    public static Streams build(JobSettings settings, DataStream<ImageRecord> images, JobSinks sinks,
                                EvaluationOperator evaluator) {
        return attach(build(settings, images, evaluator, heads(sinks)), sinks);
    }

    private static boolean heads(JobSinks sinks) {
        return sinks.artifacts() != null && sinks.artifacts().spec().heads();
    }

    /** The uid of the model artifact sink and of the announcement map (stable: savepoints hold their committables). */
    public static final String ARTIFACTS_UID = "sink-model-artifacts";
    public static final String ANNOUNCE_UID = "announce-models";

    private static Streams attach(Streams streams, JobSinks sinks) {
        return attach(streams, sinks, null, null);
    }

    /**
     * The job's streams with the sinks, and with the embedding of {@code embedImages} by the committed versions
     * (null: no embedding stream). Embedding needs the model artifacts (their announcements are what the embedder
     * follows) and the sinks' {@code embeddings}.
     */
    public static Streams build(JobSettings settings, DataStream<ImageRecord> images, JobSinks sinks,
                                EvaluationOperator evaluator, DataStream<ImageRecord> embedImages, EmbedSettings embed) {
        return attach(build(settings, images, evaluator, heads(sinks)), sinks, embedImages, embed);
    }

    /** The embedding stream, its catalogue markers and its dead letters. */
    public record EmbeddingStreams(DataStream<Embedding> embeddings, DataStream<CatalogueMarker> markers,
                                   DataStream<DeadLetter> deadLetters) {}

    /**
     * Embeds {@code images} with the newest committed version that {@code announcements} (the committed model
     * stream: uri and sha256 of each version) name; the announcements are broadcast to every embedder.
     */
    public static EmbeddingStreams embed(EmbedSettings embed, DataStream<ModelUpdate> announcements,
                                         DataStream<ImageRecord> images) {
        SingleOutputStreamOperator<Embedding> out = images.connect(announcements.broadcast())
                .transform("embed", TypeInformation.of(Embedding.class),
                        new EmbeddingOperator(embed.operator(),
                                new CommittedArtifactLoader(new FlinkFileSystemStore())))
                .uid(EmbedSettings.EMBED_UID)
                .setParallelism(embed.parallelism());
        return new EmbeddingStreams(out, out.getSideOutput(EmbeddingOperator.MARKERS),
                out.getSideOutput(DeadLetters.TAG));
    }

    private static Streams attach(Streams streams, JobSinks sinks, DataStream<ImageRecord> embedImages,
                                  EmbedSettings embed) {
        streams.steps().sinkTo(sinks.steps()).uid("sink-steps").name("steps").setParallelism(1);
        streams.reports().sinkTo(sinks.reports()).uid("sink-reports").name("reports").setParallelism(1);
        DataStream<DeadLetter> deadLetters = streams.deadLetters();
        DataStream<ModelUpdate> updates = streams.models();
        if (sinks.artifacts() != null) {
            // artifacts and their announcements commit on the same checkpoint (see ModelArtifactSink)
            streams.models().sinkTo(sinks.artifacts()).uid(ARTIFACTS_UID).name("model artifacts").setParallelism(1);
            updates = streams.models().map(sinks.artifacts().announcer(), TypeInformation.of(ModelUpdate.class))
                    .uid(ANNOUNCE_UID).name("announce models").setParallelism(1);
        }
        if (sinks.models() != null) {
            updates.sinkTo(sinks.models()).uid("sink-models").name("model updates").setParallelism(1);
        }
        if (embed != null) {
            if (sinks.artifacts() == null || sinks.embeddings() == null) {
                throw new IllegalArgumentException("the embedding stream needs the model artifacts and an embeddings"
                        + " sink (" + SiamstreamOptions.EXPORT_MODELS.key() + " must not be none)");
            }
            EmbeddingStreams embedded = embed(embed, updates, embedImages);
            embedded.embeddings().sinkTo(sinks.embeddings()).uid("sink-embeddings").name("embeddings")
                    .setParallelism(embed.parallelism());
            if (sinks.catalogueMarkers() != null) {
                embedded.markers().sinkTo(sinks.catalogueMarkers()).uid("sink-embedding-sets").name("embedding sets")
                        .setParallelism(1);
            }
            deadLetters = deadLetters.union(embedded.deadLetters());
        }
        deadLetters.sinkTo(sinks.deadLetters()).uid("sink-dead-letters").name("dead letters").setParallelism(1);
        return streams;
    }

    /** The prefix of the job's own options (see {@link SiamstreamOptions}). */
    public static final String OPTION_PREFIX = "siamstream.";

    /**
     * The job's options: the {@code siamstream.*} keys of the cluster's configuration (a FlinkDeployment's
     * {@code flinkConfiguration}, the Flink config file), overridden by the program arguments. Other keys of the
     * cluster configuration are Flink's own and reach the job through the environment, not through here.
     */
    public static Configuration options(Configuration arguments, Configuration cluster) {
        Configuration conf = new Configuration();
        cluster.toMap().forEach((key, value) -> {
            if (key.startsWith(OPTION_PREFIX)) {
                conf.setString(key, value);
            }
        });
        conf.addAll(arguments);
        return conf;
    }

    /** The Flink config file of the process ({@code FLINK_CONF_DIR}), or nothing when it has none (a local run). */
    static Configuration clusterConfiguration() {
        return System.getenv(org.apache.flink.configuration.ConfigConstants.ENV_FLINK_CONF_DIR) == null
                ? new Configuration() : org.apache.flink.configuration.GlobalConfiguration.loadConfiguration();
    }

    /**
     * Entry point on a cluster: {@code --siamstream.option value ...} (or the same keys in the cluster's configuration;
     * the arguments win, see {@link #options}); Flink's own settings come from its config (or
     * the same flags); checkpointing, state backend and restart options set nowhere get {@link FaultTolerance}'s
     * defaults for a long fault-tolerant run.
     */
    public static void main(String[] args) throws Exception {
        Configuration conf = options(ParameterTool.fromArgs(args).getConfiguration(), clusterConfiguration());
        FaultTolerance.validate(conf);
        JobSettings settings = JobSettings.from(conf);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        // checkpointing, state backend and restarts for a long run, where neither the cluster nor the user set them
        FaultTolerance.apply(env, settings.output())
                .forEach((key, value) -> System.out.println("siamstream: default " + key + " = " + value));
        env.getConfig().disableGenericTypes();
        KafkaSettings kafka = KafkaSettings.from(conf);
        var artifacts = ExportSettings.from(conf, settings);
        EmbedSettings embed = EmbedSettings.from(conf, settings, artifacts != null);
        JobSinks sinks = kafka.sink() ? kafka.sinks().withArtifacts(artifacts)
                : JobSinks.files(settings.output(), artifacts, embed != null);
        if (kafka.sink() && embed != null) {
            sinks = kafka.withEmbeddings(sinks);
        }
        build(settings, kafka.source() ? kafka.images(env, settings) : replaySource(env, settings), sinks,
                standardEvaluator(settings), embed == null ? null : embed.images(env, settings, kafka), embed);
        // only where main runs its own local cluster: a submitted job (REST, application mode) cannot wait for its
        // result from main, and its output folder is not local to the client anyway
        boolean local = env instanceof org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
        ReportRefresher report = kafka.sink() || !conf.get(SiamstreamOptions.REPORT) || !local ? null
                : ReportRefresher.forOutput(settings);
        if (report == null) {
            env.execute("siamstream");
            return;
        }
        JobClient client = env.executeAsync("siamstream");
        ReportRefresher.watch(report, () -> {
            try {
                return client.getJobStatus().get().isGloballyTerminalState();
            } catch (Exception e) {
                return true;   // the job is gone with its cluster: nothing left to wait for
            }
        }, 10_000);
        client.getJobExecutionResult().get();   // the job's failure, if it failed
    }
}
