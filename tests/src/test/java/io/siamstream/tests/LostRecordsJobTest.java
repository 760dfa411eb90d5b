package io.siamstream.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.job.JobSettings;
import io.siamstream.job.JobSinks;
import io.siamstream.job.SiamstreamJob;
import io.siamstream.job.SiamstreamOptions;
import io.siamstream.record.DeadLetter;
import io.siamstream.record.ImageRecord;
import io.siamstream.record.ModelUpdate;
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerStateCodec;
import io.siamstream.train.ReplayTrainer;
import io.siamstream.train.Tensor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.functions.FilterFunction;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records lost on the way never stall sequence batching: two records that the augmentation rejects (their seqs reach
 * the trainer as skip markers) and one that never arrives at all (the batches behind it wait, within the pending
 * bound, until the end of the input closes them). Every batch trains, three of them with 31 of 32 pairs, and the job
 * ends with exactly the weights of the reference loop given the same three seqs to skip. The bound itself is the
 * operator test's: its forced closes depend on arrival timing, which a job cannot pin down.
 */
class LostRecordsJobTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    private static final Set<Long> EMPTIED = Set.of(5L, 37L);
    private static final long DROPPED = 70;

    /** Empties the pixels of some records: both views dead-letter them as no-pixels. */
    static final class EmptyPixels implements MapFunction<ImageRecord, ImageRecord> {
        @Override
        public ImageRecord map(ImageRecord r) {
            if (EMPTIED.contains(r.seq)) {
                r.pixels = new byte[0];
            }
            return r;
        }
    }

    /** Loses one record without a trace, as a buggy upstream would. */
    static final class DropOne implements FilterFunction<ImageRecord> {
        @Override
        public boolean filter(ImageRecord r) {
            return r.seq != DROPPED;
        }
    }

    @Test
    void lostRecordsShrinkTheirBatchesAndTrainingMatchesTheReferenceLoop(
            @TempDir(cleanup = CleanupMode.NEVER) Path tmp) throws Exception {
        Configuration conf = new Configuration();
        conf.set(SiamstreamOptions.EPOCHS, 1L);
        conf.set(SiamstreamOptions.BATCH_SIZE, 32);
        conf.set(SiamstreamOptions.PUBLISH_EVERY, 1000);
        conf.set(SiamstreamOptions.SCHEDULE_STEPS, 200L);
        conf.set(SiamstreamOptions.DEVICE, "cpu");
        conf.set(SiamstreamOptions.VIEW1_PARALLELISM, 2);
        conf.set(SiamstreamOptions.LINEAR_EVERY, 0);
        conf.set(SiamstreamOptions.OUTPUT, tmp.toString());
        JobSettings settings = JobSettings.from(conf);

        StreamExecutionEnvironment env = CheckpointedEnvironment.environment(
                CheckpointedEnvironment.configuration(tmp, Duration.ofMillis(300)));
        DataStream<ImageRecord> images = SiamstreamJob.replaySource(env, settings)
                .map(new EmptyPixels(), TypeInformation.of(ImageRecord.class)).uid("empty-pixels")
                .filter(new DropOne()).uid("drop-one");
        JobSinks files = JobSinks.files(tmp.toString());
        SiamstreamJob.build(settings, images, new JobSinks(files.steps(), files.reports(),
                TestSinks.collecting("lost-dead"), TestSinks.collecting("lost-models")));
        env.execute("lost records");

        long batches = 4000 / 32;
        List<String> steps = CommittedFiles.lines(tmp.resolve("steps"));
        assertThat(CommittedFiles.stepLosses(steps).keySet())
                .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, batches).boxed().toList());
        assertThat(steps).filteredOn(l -> l.contains("\"pairs\":31,")).as("batches 0, 1 and 2 lost one pair each")
                .hasSize(3).allMatch(l -> l.matches(".*\"batch\":[012],.*"));
        List<DeadLetter> dead = TestSinks.received("lost-dead");
        assertThat(dead).extracting(d -> d.stage + "/" + d.reason + "/" + d.seq).containsExactlyInAnyOrder(
                "augment-view1/no-pixels/5", "augment-view2/no-pixels/5",
                "augment-view1/no-pixels/37", "augment-view2/no-pixels/37");

        ModelUpdate last = TestSinks.<ModelUpdate>received("lost-models").stream()
                .max(Comparator.comparingLong(u -> u.version)).orElseThrow();
        assertThat(last.version).isEqualTo(batches);
        Map<String, Tensor> job = LearnerStateCodec.decode(last.encoderState).tensors();
        try (Learner learner = Learner.create(settings.learner())) {
            var sample = FashionMnist.sample(FashionMnist.Split.TRAIN).asImages();
            new ReplayTrainer(learner, sample, settings.policy(), settings.policy(), settings.seed())
                    .skipping(Set.of(5L, 37L, DROPPED))
                    .train(batches, r -> { });
            Map<String, Tensor> reference = learner.encoderSnapshot().tensors();
            assertThat(job.keySet()).isEqualTo(reference.keySet());
            for (String name : reference.keySet()) {
                assertThat(job.get(name).data()).as("job vs reference loop with the same skips: " + name)
                        .isEqualTo(reference.get(name).data());
            }
        }
    }
}
