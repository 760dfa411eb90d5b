package io.siamstream.flink;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import io.siamstream.eval.EncoderVersion;
import io.siamstream.eval.ImageEmbedder;
import io.siamstream.eval.ModelVersionRejected;
import io.siamstream.record.CatalogueMarker;
import io.siamstream.record.DeadLetter;
import io.siamstream.record.Embedding;
import io.siamstream.record.ImageRecord;
import io.siamstream.record.ModelUpdate;
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The embedding operator in Flink's two-input harness: a version is used only after a checkpoint taken after its
 * announcement completes; images wait for the first version up to the bound; vectors are what the version's encoder
 * computes; a rejected version leaves the previous one in use; a restore reloads the version; catalogue refresh.
 */
class EmbeddingOperatorTest {

    private static final int SIZE = 28;
    /** The versions the test loader serves, by version; a missing key is an artifact not (yet) there. */
    private static final Map<Long, Object> ARTIFACTS = new ConcurrentHashMap<>();

    @BeforeAll
    static void versions() {
        ARTIFACTS.put(10L, version(10, 1));
        ARTIFACTS.put(20L, version(20, 2));
        ARTIFACTS.put(30L, version(30, 3));
    }

    /** A version with the weights of a fresh learner of {@code seed}: every seed gives other vectors. */
    private static EncoderVersion version(long version, long seed) {
        LearnerConfig config = LearnerConfig.smallConvNet(4, 10, seed);
        try (Learner learner = Learner.create(config, Device.cpu())) {
            return new EncoderVersion(version, config.encoder(), 1, SIZE, new float[] {0.286f}, new float[] {0.353f},
                    learner.encoderSnapshot());
        }
    }

    private static EncoderVersion load(ModelUpdate u) throws ModelVersionRejected {
        Object a = ARTIFACTS.get(u.version);
        if (a == null) {
            throw new ModelVersionRejected(ModelVersionRejected.MISSING, "no such file", true, null);
        }
        if (a instanceof ModelVersionRejected e) {
            throw e;
        }
        return (EncoderVersion) a;
    }

    private static ModelUpdate announcement(long version) {
        ModelUpdate u = new ModelUpdate();
        u.version = version;
        u.step = version;
        u.uri = "file:///models/" + version;
        u.sha256 = "0".repeat(64);
        return u;
    }

    private static ImageRecord image(long id) {
        byte[] pixels = new byte[SIZE * SIZE];
        SplittableRandom random = new SplittableRandom(id);
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) random.nextInt(256);
        }
        return new ImageRecord(id, id, 0, 1, SIZE, SIZE, pixels, -1);
    }

    private static TwoInputStreamOperatorTestHarness<ImageRecord, ModelUpdate, Embedding> harness(int batch, int maxWaiting,
                                                                                                  boolean refresh) throws Exception {
        var settings = new EmbeddingOperator.Settings(1, SIZE, batch, maxWaiting, refresh, 50, 1_000, "cpu");
        return new TwoInputStreamOperatorTestHarness<>(new EmbeddingOperator(settings, EmbeddingOperatorTest::load));
    }

    private static List<Embedding> embeddings(TwoInputStreamOperatorTestHarness<ImageRecord, ModelUpdate, Embedding> h) {
        List<Embedding> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r && r.getValue() instanceof Embedding e) {
                out.add(e);
            }
        }
        h.getOutput().clear();
        return out;
    }

    private static List<DeadLetter> deadLetters(TwoInputStreamOperatorTestHarness<ImageRecord, ModelUpdate, Embedding> h) {
        List<DeadLetter> out = new ArrayList<>();
        var side = h.getSideOutput(DeadLetters.TAG);
        if (side != null) {
            side.forEach(r -> out.add(r.getValue()));
            side.clear();
        }
        return out;
    }

    /** What version {@code v}'s encoder makes of the images, as one batch. */
    private static float[][] expected(long v, List<ImageRecord> images) {
        List<byte[]> pixels = images.stream().map(r -> r.pixels).toList();
        try (ImageEmbedder e = new ImageEmbedder((EncoderVersion) ARTIFACTS.get(v), Device.cpu())) {
            return e.embed(pixels);
        }
    }

    @Test
    void imagesWaitUntilTheCheckpointAfterTheAnnouncementCompletesThenGetThatVersionsVectors() throws Exception {
        try (var h = harness(4, 100, false)) {
            h.open();
            List<ImageRecord> first = List.of(image(1), image(2), image(3));
            for (ImageRecord r : first) {
                h.processElement1(r, 0);
            }
            h.snapshot(1, 1);                        // taken before the announcement: does not cover it
            h.processElement2(announcement(10), 0);
            Object v10 = ARTIFACTS.remove(10L);      // not committed: the sink has not renamed it into place
            try {
                h.notifyOfCompletedCheckpoint(1);
                h.setProcessingTime(h.getProcessingTime() + 5_000);
                assertThat(embeddings(h)).as("version 10 is not committed by checkpoint 1").isEmpty();
            } finally {
                ARTIFACTS.put(10L, v10);
            }
            h.snapshot(2, 2);
            h.notifyOfCompletedCheckpoint(2);        // covers version 10: committed, the waiting images go
            List<Embedding> out = embeddings(h);
            assertThat(out).extracting(e -> e.id).containsExactly(1L, 2L, 3L);
            assertThat(out).allSatisfy(e -> assertThat(e.modelVersion).isEqualTo(10));
            float[][] want = expected(10, first);
            for (int i = 0; i < 3; i++) {
                assertThat(out.get(i).vector).as("bit for bit, same batch").isEqualTo(want[i]);
            }
            // with a version in use: a full batch runs at once, a partial one after the delay
            for (long id = 4; id <= 8; id++) {
                h.processElement1(image(id), 0);
            }
            assertThat(embeddings(h)).extracting(e -> e.id).containsExactly(4L, 5L, 6L, 7L);
            h.setProcessingTime(h.getProcessingTime() + 1_000);
            assertThat(embeddings(h)).extracting(e -> e.id).containsExactly(8L);
            // a newer version: pending until its checkpoint completes
            h.processElement2(announcement(20), 0);
            h.processElement1(image(9), 0);
            h.prepareSnapshotPreBarrier(3);          // the barrier flushes image 9 with version 10
            h.snapshot(3, 3);
            assertThat(embeddings(h)).extracting(e -> e.modelVersion).containsExactly(10L);
            h.notifyOfCompletedCheckpoint(3);
            h.processElement1(image(1), 0);
            h.prepareSnapshotPreBarrier(4);
            List<Embedding> later = embeddings(h);
            assertThat(later).extracting(e -> e.modelVersion).containsExactly(20L);
            assertThat(later.get(0).vector).isEqualTo(expected(20, List.of(image(1)))[0]);
            assertThat(later.get(0).vector).isNotEqualTo(out.get(0).vector);
            assertThat(deadLetters(h)).isEmpty();
        }
    }

    @Test
    void imagesPastTheWaitingBoundAndBadImagesAreDeadLettered() throws Exception {
        try (var h = harness(4, 2, false)) {
            h.open();
            h.processElement1(image(1), 0);
            h.processElement1(image(2), 0);
            h.processElement1(image(3), 0);          // the bound is 2
            ImageRecord wrongShape = new ImageRecord(4, 4, 0, 1, 27, 27, new byte[27 * 27], -1);
            ImageRecord noPixels = new ImageRecord(5, 5, 0, 1, SIZE, SIZE, null, -1);
            ImageRecord truncated = new ImageRecord(6, 6, 0, 1, SIZE, SIZE, new byte[100], -1);
            h.processElement1(wrongShape, 0);
            h.processElement1(noPixels, 0);
            h.processElement1(truncated, 0);
            h.processElement1(ImageRecord.rejected(-1, -1, DeadLetters.UNDECODABLE, "not a PNG"), 0);
            assertThat(deadLetters(h)).extracting(d -> d.id + ":" + d.reason).containsExactly(
                    "3:" + EmbeddingOperator.NO_MODEL, "4:" + DeadLetters.WRONG_SHAPE, "5:" + DeadLetters.NO_PIXELS,
                    "6:" + DeadLetters.WRONG_SIZE, "-1:" + DeadLetters.UNDECODABLE);
            h.processElement2(announcement(10), 0);
            h.snapshot(1, 1);
            h.notifyOfCompletedCheckpoint(1);
            assertThat(embeddings(h)).extracting(e -> e.id).containsExactly(1L, 2L);
        }
    }

    @Test
    void aRejectedVersionIsDeadLetteredAndThePreviousOneStaysInUse() throws Exception {
        ARTIFACTS.put(40L, new ModelVersionRejected(ModelVersionRejected.CHECKSUM, "sha256 differs", false, null));
        try (var h = harness(1, 100, false)) {
            h.open();
            h.processElement2(announcement(10), 0);
            h.snapshot(1, 1);
            h.notifyOfCompletedCheckpoint(1);
            h.processElement2(announcement(40), 0);
            h.snapshot(2, 2);
            h.notifyOfCompletedCheckpoint(2);
            assertThat(deadLetters(h)).singleElement().satisfies(d -> {
                assertThat(d.reason).isEqualTo(ModelVersionRejected.CHECKSUM);
                assertThat(d.id).isEqualTo(40);
                assertThat(d.stage).isEqualTo(EmbeddingOperator.STAGE);
            });
            h.processElement1(image(1), 0);
            assertThat(embeddings(h)).extracting(e -> e.modelVersion).containsExactly(10L);
            // missing: looked for again until the timeout (1 s here), then rejected; 10 stays
            h.processElement2(announcement(50), 0);
            h.snapshot(3, 3);
            h.notifyOfCompletedCheckpoint(3);
            h.setProcessingTime(h.getProcessingTime() + 500);
            assertThat(deadLetters(h)).isEmpty();
            h.setProcessingTime(h.getProcessingTime() + 1_000);
            h.setProcessingTime(h.getProcessingTime() + 1_000);
            assertThat(deadLetters(h)).extracting(d -> d.reason).containsExactly(ModelVersionRejected.MISSING);
            h.processElement1(image(2), 0);
            assertThat(embeddings(h)).extracting(e -> e.modelVersion).containsExactly(10L);
        } finally {
            ARTIFACTS.remove(40L);
        }
    }

    @Test
    void aMissingArtifactThatAppearsWithinTheTimeoutIsUsed() throws Exception {
        Object v30 = ARTIFACTS.remove(30L);
        try (var h = harness(1, 100, false)) {
            h.open();
            h.processElement1(image(1), 0);
            h.processElement2(announcement(30), 0);
            h.snapshot(1, 1);
            h.notifyOfCompletedCheckpoint(1);        // committed, but the rename has not happened yet
            assertThat(embeddings(h)).isEmpty();
            ARTIFACTS.put(30L, v30);
            h.setProcessingTime(h.getProcessingTime() + 300);
            assertThat(embeddings(h)).extracting(e -> e.modelVersion).containsExactly(30L);
            assertThat(deadLetters(h)).isEmpty();
        } finally {
            ARTIFACTS.put(30L, v30);
        }
    }

    @Test
    void aRestoreKeepsTheWaitingImagesAndReloadsTheVersionsItHolds() throws Exception {
        OperatorSubtaskState state;
        try (var h = harness(8, 100, false)) {
            h.open();
            h.processElement1(image(1), 0);
            h.processElement1(image(2), 0);
            h.processElement2(announcement(10), 0);
            state = h.snapshot(1, 1);                // version 10 pending, two images waiting; then a failure
        }
        try (var h = harness(8, 100, false)) {
            h.initializeState(state);
            h.open();                                 // checkpoint 1 completed (it is restored): 10 is committed
            List<Embedding> out = embeddings(h);
            assertThat(out).extracting(e -> e.id + "@" + e.modelVersion).containsExactly("1@10", "2@10");
            assertThat(out.get(1).vector).isEqualTo(expected(10, List.of(image(1), image(2)))[1]);
        }
    }

    @Test
    void refreshReEmbedsTheWholeCatalogueWithEveryVersionAndMarksEachCompleteSet() throws Exception {
        try (var h = harness(2, 100, true)) {
            h.open();
            List<ImageRecord> catalogue = new ArrayList<>();
            for (long id = 1; id <= 3; id++) {
                catalogue.add(image(id));
                h.processElement1(image(id), 0);
            }
            h.processElement2(announcement(10), 0);
            h.snapshot(1, 1);
            h.notifyOfCompletedCheckpoint(1);
            assertThat(embeddings(h)).extracting(e -> e.id + "@" + e.modelVersion).containsExactly("1@10", "2@10", "3@10");
            catalogue.add(image(4));
            h.processElement1(image(4), 0);
            h.endInput1();                            // the catalogue is complete: its set for version 10 too
            assertThat(embeddings(h)).extracting(e -> e.id + "@" + e.modelVersion).containsExactly("4@10");
            assertThat(h.getSideOutput(EmbeddingOperator.MARKERS)).extracting(StreamRecord::getValue)
                    .containsExactly(new CatalogueMarker(10, 4, 0, 1));
            h.getSideOutput(EmbeddingOperator.MARKERS).clear();
            h.processElement2(announcement(20), 0);
            h.snapshot(2, 2);
            h.notifyOfCompletedCheckpoint(2);
            List<Embedding> again = embeddings(h);
            assertThat(again).extracting(e -> e.id + "@" + e.modelVersion)
                    .containsExactly("1@20", "2@20", "3@20", "4@20");
            float[][] first = expected(20, catalogue.subList(0, 2));  // batches of 2
            assertThat(again.get(1).vector).isEqualTo(first[1]);
            assertThat(h.getSideOutput(EmbeddingOperator.MARKERS)).extracting(StreamRecord::getValue)
                    .containsExactly(new CatalogueMarker(20, 4, 0, 1));
        }
    }

    @Test
    void aRestoreTakesTheVersionInUseBackWithoutEmbeddingItsSetAgain() throws Exception {
        OperatorSubtaskState state;
        try (var h = harness(2, 100, true)) {
            h.open();
            h.processElement1(image(1), 0);
            h.processElement1(image(2), 0);
            h.endInput1();
            h.processElement2(announcement(10), 0);
            h.snapshot(1, 1);
            h.notifyOfCompletedCheckpoint(1);
            assertThat(embeddings(h)).hasSize(2);
            h.processElement2(announcement(20), 0);
            state = h.snapshot(2, 2);                // 10 in use with its set out, 20 pending
        }
        try (var h = harness(2, 100, true)) {
            h.initializeState(state);
            h.open();
            assertThat(embeddings(h)).as("only 20's set: 10's was committed before the checkpoint")
                    .extracting(e -> e.id + "@" + e.modelVersion).containsExactly("1@20", "2@20");
            assertThat(h.getSideOutput(EmbeddingOperator.MARKERS)).extracting(StreamRecord::getValue)
                    .containsExactly(new CatalogueMarker(20, 2, 0, 1));
        }
        OperatorSubtaskState quiet;
        try (var h = harness(2, 100, true)) {
            h.initializeState(state);
            h.open();
            embeddings(h);
            quiet = h.snapshot(3, 3);                // 20 in use, nothing pending
        }
        try (var h = harness(2, 100, true)) {
            h.initializeState(quiet);
            h.open();
            assertThat(embeddings(h)).isEmpty();
            assertThat(h.getSideOutput(EmbeddingOperator.MARKERS)).isNullOrEmpty();
            h.processElement1(image(3), 0);
            h.prepareSnapshotPreBarrier(4);
            assertThat(embeddings(h)).extracting(e -> e.id + "@" + e.modelVersion).containsExactly("3@20");
        }
    }

    @Test
    void aVersionWhoseFolderIsCommittedBeforeItsAnnouncementIsCoveredIsUsedAtOnce() throws Exception {
        Object v20 = ARTIFACTS.remove(20L);
        try (var h = harness(1, 100, false)) {
            h.open();
            h.processElement2(announcement(10), 0);
            h.snapshot(1, 1);
            h.notifyOfCompletedCheckpoint(1);
            // the barrier of checkpoint 2 overtook announcement 20 (unaligned), whose artifact checkpoint 2 commits
            h.snapshot(2, 2);
            h.processElement2(announcement(20), 0);
            h.notifyOfCompletedCheckpoint(2);        // the committer has not renamed 20 into place yet
            h.setProcessingTime(h.getProcessingTime() + 400);
            h.processElement1(image(1), 0);
            assertThat(embeddings(h)).extracting(e -> e.modelVersion).containsExactly(10L);
            ARTIFACTS.put(20L, v20);                  // renamed: committed
            h.setProcessingTime(h.getProcessingTime() + 400);
            h.processElement1(image(2), 0);
            assertThat(embeddings(h)).as("one checkpoint interval earlier than its own checkpoint")
                    .extracting(e -> e.modelVersion).containsExactly(20L);
            assertThat(deadLetters(h)).isEmpty();
        } finally {
            ARTIFACTS.put(20L, v20);
        }
    }

    @Test
    void aPendingVersionNotYetCommittedIsNeitherUsedNorRejected() throws Exception {
        Object v20 = ARTIFACTS.remove(20L);
        try (var h = harness(1, 100, false)) {
            h.open();
            h.processElement2(announcement(10), 0);
            h.snapshot(1, 1);
            h.notifyOfCompletedCheckpoint(1);
            h.snapshot(2, 2);
            h.processElement2(announcement(20), 0);
            h.notifyOfCompletedCheckpoint(2);
            h.setProcessingTime(h.getProcessingTime() + 10_000);  // past the look-ahead, past the artifact timeout
            h.processElement1(image(1), 0);
            assertThat(embeddings(h)).extracting(e -> e.modelVersion).containsExactly(10L);
            assertThat(deadLetters(h)).as("a pending version is not rejected for being absent").isEmpty();
            ARTIFACTS.put(20L, v20);
            h.snapshot(3, 3);
            h.notifyOfCompletedCheckpoint(3);        // covers 20 now
            h.processElement1(image(2), 0);
            assertThat(embeddings(h)).extracting(e -> e.modelVersion).containsExactly(20L);
        } finally {
            ARTIFACTS.put(20L, v20);
        }
    }
}
