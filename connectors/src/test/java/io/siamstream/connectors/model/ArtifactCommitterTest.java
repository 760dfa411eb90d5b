package io.siamstream.connectors.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.siamstream.train.LearnerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.connector.sink2.Committer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The committer alone: rename, idempotent retries, LATEST only forward, retention, leftovers. */
class ArtifactCommitterTest {

    /** A request that records how it ended. */
    static final class Request implements Committer.CommitRequest<ModelCommittable> {
        final ModelCommittable committable;
        String outcome = "committed";

        Request(ModelCommittable committable) {
            this.committable = committable;
        }

        @Override
        public ModelCommittable getCommittable() {
            return committable;
        }

        @Override
        public int getNumberOfRetries() {
            return 0;
        }

        @Override
        public void signalFailedWithKnownReason(Throwable t) {
            outcome = "failed: " + t.getMessage();
        }

        @Override
        public void signalFailedWithUnknownReason(Throwable t) {
            outcome = "failed: " + t.getMessage();
        }

        @Override
        public void retryLater() {
            outcome = "retry";
        }

        @Override
        public void updateAndRetryLater(ModelCommittable committable) {
            outcome = "retry";
        }

        @Override
        public void signalAlreadyCommitted() {
            outcome = "already";
        }
    }

    private static ModelCommittable stage(Path models, long version, String content) throws Exception {
        Path staging = Files.createDirectories(models.resolve(ModelArtifacts.STAGING).resolve(version + "-" + content));
        byte[] weights = content.getBytes();
        Files.write(staging.resolve(ModelArtifacts.ENCODER_FILE), weights);
        Files.writeString(staging.resolve(ModelArtifacts.MODEL_JSON), "{}");
        return new ModelCommittable(version, staging.toString(), ModelArtifacts.sha256(weights), weights.length);
    }

    private static String commit(ModelArtifactSink.ArtifactCommitter committer, ModelCommittable c) throws Exception {
        Request r = new Request(c);
        List<Committer.CommitRequest<ModelCommittable>> list = new ArrayList<>();
        list.add(r);
        committer.commit(list);
        return r.outcome;
    }

    @Test
    void commitsIdempotentlyAndMovesLatestOnlyForward(@TempDir Path tmp) throws Exception {
        Path models = tmp.resolve("models");
        ArtifactSpec spec = new ArtifactSpec(LearnerConfig.smallConvNet(8, 10, 1), new float[] {0}, new float[] {1},
                models.toString(), false, 2, 2, 10);
        var committer = new ModelArtifactSink.ArtifactCommitter(spec);

        ModelCommittable v10 = stage(models, 10, "a");
        assertThat(commit(committer, v10)).isEqualTo("committed");
        assertThat(Files.readString(models.resolve("10").resolve(ModelArtifacts.ENCODER_FILE))).isEqualTo("a");
        assertThat(Files.readString(models.resolve("LATEST"))).isEqualTo("10\n");
        // a retry after a restore: the target exists with the same sha256
        assertThat(commit(committer, v10)).isEqualTo("already");
        // the same version staged again (a leftover copy) is recognised and its staging removed
        ModelCommittable again = stage(models, 10, "a");
        assertThat(commit(committer, again)).isEqualTo("already");
        assertThat(Path.of(again.staging())).doesNotExist();
        // another run's content under the same version fails
        assertThat(commit(committer, stage(models, 10, "b"))).startsWith("failed").contains("another encoder");

        // an uncommitted leftover of version 15 (a failed attempt) is cleaned once 20 commits
        stage(models, 15, "left");
        assertThat(commit(committer, stage(models, 20, "c"))).isEqualTo("committed");
        assertThat(Files.list(models.resolve(ModelArtifacts.STAGING)).toList()).isEmpty();
        assertThat(commit(committer, stage(models, 30, "d"))).isEqualTo("committed");
        // keep-last 2 (20, 30) and every 2nd version (step % 20 == 0): 10 goes, 20 stays
        assertThat(Files.exists(models.resolve("10"))).isFalse();
        assertThat(Files.exists(models.resolve("20"))).isTrue();
        assertThat(Files.readString(models.resolve("LATEST"))).isEqualTo("30\n");

        // an older version committed late (restored committable) never moves LATEST back
        assertThat(commit(committer, stage(models, 25, "e"))).isEqualTo("committed");
        assertThat(Files.readString(models.resolve("LATEST"))).isEqualTo("30\n");
        // a version committed before and removed by retention since: a retry counts as done
        assertThat(commit(committer, new ModelCommittable(10, models.resolve(".staging/10-gone").toString(),
                "00", 1))).isEqualTo("already");
        // a version newer than LATEST with neither target nor staging: lost, fails
        assertThat(commit(committer, new ModelCommittable(40, models.resolve(".staging/40-gone").toString(),
                "00", 1))).startsWith("failed");
        try (var entries = Files.list(models)) {
            assertThat(entries.map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly(".staging", "20", "25", "30", "LATEST");  // 25 is among the last 2 now
        }
    }
}
