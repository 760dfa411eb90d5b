package io.siamstream.job;

import io.siamstream.report.ReportWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.flink.configuration.Configuration;

/**
 * {@code report <out-dir> [--map-points N] [--siamstream.<option> value ...]}: writes {@code <out-dir>/report.html},
 * one self-contained page of a run's training, evaluation and embeddings, or, where {@code out-dir} holds several
 * runs in sub-folders, each run's page and a side-by-side page. The job's options say which data the run used
 * (for the map, the neighbour grid and the baselines); the defaults are the embedded demo's.
 */
public final class ReportCommand {

    static final String USAGE = "usage: report <out-dir> [--map-points N] [--siamstream.<option> <value> ...]";
    /** Test images on the 2-D map: exact t-SNE is quadratic in them. */
    public static final int MAP_POINTS = 1000;

    private ReportCommand() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !args[0].equals("report")) {
            throw new IllegalArgumentException(USAGE);
        }
        Path out = Path.of(args[1]);
        if (!Files.isDirectory(out)) {
            throw new IllegalArgumentException("report: " + out + " is not a folder\n" + USAGE);
        }
        Configuration conf = new Configuration();
        int mapPoints = MAP_POINTS;
        for (int i = 2; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("report: expected --option value, got " + args[i] + "\n" + USAGE);
            }
            String key = args[i].substring(2);
            if (key.equals("map-points")) {
                mapPoints = Integer.parseInt(args[i + 1]);
            } else if (key.startsWith(SiamstreamJob.OPTION_PREFIX)) {
                conf.setString(key, args[i + 1]);
            } else {
                throw new IllegalArgumentException("report: unknown option --" + key + "\n" + USAGE);
            }
        }
        ReportWriter writer = ReportData.writer(JobSettings.from(conf), mapPoints);
        System.out.println("report: " + writer.write(out));
    }
}
