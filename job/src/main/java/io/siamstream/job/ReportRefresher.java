package io.siamstream.job;

import io.siamstream.report.ReportWriter;
import io.siamstream.report.RunData;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a running job's report.html current: rewritten whenever a new evaluation report has been committed (the
 * evaluation reports commit with the checkpoint after them, so that is when a refresh has something new to show) and
 * once more at the end. It reads the output folder only, outside the job's operators; a report that cannot be
 * written is logged and never stops the job.
 */
final class ReportRefresher {

    private static final Logger LOG = LoggerFactory.getLogger(ReportRefresher.class);

    private final Path out;
    private final ReportWriter writer;
    private int evaluationsSeen;

    ReportRefresher(Path out, ReportWriter writer) {
        this.out = out;
        this.writer = writer;
    }

    /** Where the output folder is a local path: the report is written there; elsewhere (s3://, hdfs://) null. */
    static ReportRefresher forOutput(JobSettings settings) {
        String output = settings.output();
        if (output.contains("://") && !output.startsWith("file:")) {
            LOG.info("no report refresh: {} is not a local folder; run `report` where its files are", output);
            return null;
        }
        Path dir = output.startsWith("file:") ? Path.of(java.net.URI.create(output)) : Path.of(output);
        return new ReportRefresher(dir, ReportData.writer(settings, ReportCommand.MAP_POINTS));
    }

    /** Rewrites the report if an evaluation has been committed since the last call; true when it did. */
    boolean refreshOnNewEvaluation() {
        int evaluations;
        try {
            evaluations = RunData.committedEvaluations(out);
        } catch (RuntimeException e) {
            return false;   // a part file being renamed under us: the next poll sees it whole
        }
        if (evaluations <= evaluationsSeen) {
            return false;
        }
        evaluationsSeen = evaluations;
        return write() != null;
    }

    /** Writes the report now; returns its path, or null when it could not be written (logged). */
    Path write() {
        try {
            return writer.write(out);
        } catch (Exception e) {
            LOG.warn("the report of {} could not be written", out, e);
            return null;
        }
    }

    /**
     * Polls every {@code everyMillis} until {@code done} says the job has ended, refreshing the report on every new
     * evaluation, then writes the final one; a null refresher (no local output folder) only waits.
     */
    static void watch(ReportRefresher refresher, BooleanSupplier done, long everyMillis) throws InterruptedException {
        while (!done.getAsBoolean()) {
            if (refresher != null) {
                refresher.refreshOnNewEvaluation();
            }
            Thread.sleep(everyMillis);
        }
        if (refresher != null) {
            Path page = refresher.write();
            if (page != null) {
                System.out.println("report: " + page);
            }
        }
    }
}
