package io.siamstream.job;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.siamstream.connectors.cifar.Cifar10;
import io.siamstream.connectors.folder.ImageFolder;
import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.eval.EvaluationSet;
import io.siamstream.report.Html;
import io.siamstream.report.ReportWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The report's data for a job with these settings: the job's own evaluation data ({@link JobSettings#evaluation()}),
 * the dataset's class names, and the raw-pixel and untrained-encoder kNN baselines of {@link KnnBaselines}, which are
 * kept in {@value #BASELINES_FILE} in the output folder: they depend only on the data, the encoder and the seed, and
 * the untrained encoder takes seconds to embed the bank.
 */
public final class ReportData implements ReportWriter.Data {

    public static final String BASELINES_FILE = "baselines.json";

    private final JobSettings settings;

    public ReportData(JobSettings settings) {
        this.settings = settings;
    }

    /** A writer for this job's report: at most {@code mapPoints} test images on the map. */
    public static ReportWriter writer(JobSettings settings, int mapPoints) {
        return new ReportWriter(new ReportData(settings), mapPoints, io.siamstream.report.Tsne.standard());
    }

    @Override
    public EvaluationSet evaluation() {
        var supplier = settings.evaluation();
        return supplier == null ? null : supplier.get();
    }

    @Override
    public String[] classNames() {
        return switch (settings.format()) {
            case FASHION_MNIST -> FashionMnist.CLASS_NAMES;
            case CIFAR10 -> Cifar10.CLASS_NAMES;
            case IMAGE_FOLDER -> {
                try {
                    yield ImageFolder.list(Path.of(settings.data())).classes().toArray(new String[0]);
                } catch (IOException e) {
                    yield new String[0];
                }
            }
        };
    }

    @Override
    public Html.Baselines baselines(Path outDir, EvaluationSet set) {
        String key = String.format(Locale.ROOT, "%s %s, %s, seed %d, %d queries / %d bank images", settings.format(),
                settings.data(), settings.learner().encoder(), settings.seed(), set.queryLabels().length,
                set.bankLabels().length);
        Path file = outDir.resolve(BASELINES_FILE);
        try {
            if (Files.isRegularFile(file)) {
                JsonObject o = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
                if (o.has("data") && o.get("data").getAsString().equals(key)) {
                    return new Html.Baselines(o.get("raw_pixel_knn_top1").getAsDouble(),
                            o.get("untrained_encoder_knn_top1").getAsDouble());
                }
            }
            Html.Baselines b = new Html.Baselines(KnnBaselines.rawPixels(settings, set).knnTop1(),
                    KnnBaselines.randomEncoder(settings, set).knnTop1());
            JsonObject o = new JsonObject();
            o.addProperty("data", key);
            o.addProperty("raw_pixel_knn_top1", b.rawPixelKnn());
            o.addProperty("untrained_encoder_knn_top1", b.untrainedEncoderKnn());
            Files.writeString(file, o + "\n");
            return b;
        } catch (IOException | RuntimeException e) {
            return Html.Baselines.NONE;
        }
    }
}
