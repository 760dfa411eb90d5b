package io.siamstream.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.flink.EvaluationOperator;
import io.siamstream.job.JobSettings;
import io.siamstream.job.JobSinks;
import io.siamstream.job.SiamstreamJob;
import io.siamstream.job.SiamstreamOptions;
import io.siamstream.record.EvalReport;
import io.siamstream.record.ImageRecord;
import io.siamstream.record.ModelUpdate;
import io.siamstream.record.StepMetrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * A slow evaluator does not hold the trainer back: the first evaluation does not return before the step sink has
 * received every step of the bounded run. Were the trainer waiting for the evaluator, its steps could never all
 * arrive, and the evaluation would give up after its deadline and fail the job. The versions published meanwhile
 * are skipped, all but the newest, and the final version is still evaluated.
 */
class SlowEvaluationTest {

    private static final InMemoryReporter METRICS = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(METRICS.addToConfiguration(new Configuration()))
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    private static final int IMAGES = 1400;
    private static final int BATCH = 32;
    private static final int PUBLISH_EVERY = 5;
    /** Sequence batching trains full batches only: 43 steps, the last 24 images stay unused. */
    private static final long STEPS = IMAGES / BATCH;
    private static final Duration DEADLINE = Duration.ofMinutes(3);

    /** How long the first evaluation waited for the trainer to finish (-1: it did not run). */
    private static final AtomicLong FIRST_WAIT_MILLIS = new AtomicLong(-1);

    /**
     * The first evaluation waits (polling, up to {@link #DEADLINE}) until the step sink holds {@code steps} steps; the
     * others take 100 ms. Reports carry the version only.
     */
    private record SlowEvaluation(String stepSink, long steps) implements EvaluationOperator.EvaluationFactory {
        @Override
        public EvaluationOperator.Evaluation create() {
            return new EvaluationOperator.Evaluation() {
                private boolean first = true;

                @Override
                public EvalReport evaluate(ModelUpdate update, boolean linearProbe) throws Exception {
                    long start = System.nanoTime();
                    if (first) {
                        first = false;
                        long deadline = start + DEADLINE.toNanos();
                        while (TestSinks.received(stepSink).size() < steps) {
                            if (System.nanoTime() > deadline) {
                                throw new IllegalStateException("the trainer did not finish its " + steps + " steps in "
                                        + DEADLINE + " while version " + update.version + " was evaluated: "
                                        + TestSinks.received(stepSink).size() + " arrived");
                            }
                            Thread.sleep(50);
                        }
                        FIRST_WAIT_MILLIS.set((System.nanoTime() - start) / 1_000_000);
                    } else {
                        Thread.sleep(100);
                    }
                    EvalReport report = new EvalReport();
                    report.version = update.version;
                    report.evalMillis = (System.nanoTime() - start) / 1e6;
                    report.wallTimeMillis = System.currentTimeMillis();
                    return report;
                }
            };
        }
    }

    private static JobSettings settings(Path out) {
        Configuration conf = new Configuration();
        conf.set(SiamstreamOptions.EPOCHS, 1L);
        conf.set(SiamstreamOptions.BATCH_SIZE, BATCH);
        conf.set(SiamstreamOptions.PUBLISH_EVERY, PUBLISH_EVERY);
        conf.set(SiamstreamOptions.SCHEDULE_STEPS, 100L);
        conf.set(SiamstreamOptions.DEVICE, "cpu");
        conf.set(SiamstreamOptions.VIEW1_PARALLELISM, 2);
        conf.set(SiamstreamOptions.LINEAR_EVERY, 0);
        conf.set(SiamstreamOptions.OUTPUT, out.toString());
        return JobSettings.from(conf);
    }

    /** The first IMAGES training images of the bundled sample, seq = index. */
    private static List<ImageRecord> images() {
        var sample = FashionMnist.sample(FashionMnist.Split.TRAIN);
        List<ImageRecord> records = new ArrayList<>(IMAGES);
        for (int i = 0; i < IMAGES; i++) {
            byte[] pixels = Arrays.copyOfRange(sample.pixels(), i * 784, (i + 1) * 784);
            records.add(new ImageRecord(i, i, 0, 1, 28, 28, pixels, sample.label(i)));
        }
        return records;
    }

    /** Runs the bounded job with {@code evaluation} (null: off); sinks are collecting sinks named after {@code name}. */
    private static JobID run(Path out, String name, EvaluationOperator.EvaluationFactory evaluation) throws Exception {
        JobSettings settings = settings(out);
        StreamExecutionEnvironment env = CheckpointedEnvironment.environment(
                CheckpointedEnvironment.configuration(out, Duration.ofMillis(500)));
        DataStream<ImageRecord> images = env.fromData(images(), TypeInformation.of(ImageRecord.class)).setParallelism(1);
        JobSinks sinks = new JobSinks(TestSinks.collecting(name + "-steps"), TestSinks.collecting(name + "-reports"),
                TestSinks.collecting(name + "-dead"), TestSinks.collecting(name + "-models"));
        SiamstreamJob.build(settings, images, sinks, evaluation == null ? null
                : new EvaluationOperator(settings.learner().modelFingerprint(), 0, evaluation));
        return env.execute(name).getJobID();
    }

    private static double medianPairsPerSecond(List<StepMetrics> steps) {
        double[] rates = steps.stream().skip(3).mapToDouble(m -> m.pairsPerSecond).sorted().toArray();
        return rates.length == 0 ? Double.NaN : rates[rates.length / 2];
    }

    @Test
    void aSlowEvaluatorDoesNotHoldTheTrainerBackAndTheFinalVersionIsEvaluated(
            @TempDir(cleanup = CleanupMode.NEVER) Path tmp) throws Exception {
        long started = System.nanoTime();
        JobID job = run(tmp.resolve("slow"), "slow", new SlowEvaluation("slow-steps", STEPS));
        double slowSeconds = (System.nanoTime() - started) / 1e9;

        List<StepMetrics> steps = TestSinks.received("slow-steps");
        assertThat(steps).extracting(m -> m.step).as("every step once")
                .containsExactlyInAnyOrderElementsOf(LongStream.rangeClosed(1, STEPS).boxed().toList());
        assertThat(FIRST_WAIT_MILLIS.get()).as("the first evaluation waited for the last step, and it came").isPositive();

        List<Long> published = TestSinks.<ModelUpdate>received("slow-models").stream().map(u -> u.version).toList();
        List<Long> reported = TestSinks.<EvalReport>received("slow-reports").stream().map(r -> r.version).toList();
        List<Long> expectedPublished = new ArrayList<>(
                LongStream.rangeClosed(1, STEPS / PUBLISH_EVERY).map(i -> i * PUBLISH_EVERY).boxed().toList());
        expectedPublished.add(STEPS);   // 43 is not a multiple of 5: the final version is published at the end of input
        assertThat(published).containsExactlyElementsOf(expectedPublished);

        assertThat(reported).as("reports in version order, each once").isSorted().doesNotHaveDuplicates();
        assertThat(published).containsAll(reported);
        assertThat(reported).as("the first version (the slow one) and the final version are evaluated")
                .startsWith((long) PUBLISH_EVERY).endsWith(STEPS);
        assertThat(reported.size()).as("versions were skipped").isLessThan(published.size());

        var groups = METRICS.findOperatorMetricGroups(job, "evaluate");
        assertThat(groups).as("the evaluator's metric group").hasSize(1);
        long skipped = ((Counter) METRICS.getMetricsByGroup(groups.get(0)).get("skippedVersions")).getCount();
        assertThat(skipped).as("every published version is reported or counted as skipped")
                .isEqualTo(published.size() - reported.size());

        // the same run without evaluation, for the step rate (logged: on a shared 2-core machine it is no assertion).
        // The slow run went first and paid the JVM's warm-up, so any gap overstates the cost: with a warm JVM both
        // ran 43 steps in 15.5 s (122.8 vs 119.5 pairs/s median), after a 20.2 s warm-up job.
        started = System.nanoTime();
        run(tmp.resolve("off"), "off", null);
        double offSeconds = (System.nanoTime() - started) / 1e9;
        List<StepMetrics> offSteps = TestSinks.received("off-steps");
        assertThat(offSteps).hasSize((int) STEPS);
        assertThat(TestSinks.<EvalReport>received("off-reports")).isEmpty();
        System.out.printf(Locale.ROOT, "slow evaluation: %d steps, published %s, reported %s, %d skipped; first"
                        + " evaluation waited %d ms; job %.1f s, median %.1f pairs/s (the JVM's first job); without evaluation:"
                        + " job %.1f s, median %.1f pairs/s%n", steps.size(), published, reported, skipped, FIRST_WAIT_MILLIS.get(),
                slowSeconds, medianPairsPerSecond(steps), offSeconds, medianPairsPerSecond(offSteps));
    }
}
