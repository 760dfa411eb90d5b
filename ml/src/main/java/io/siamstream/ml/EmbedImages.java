package io.siamstream.ml;

import ai.djl.Device;
import io.siamstream.flink.ExternalGpus;
import io.siamstream.job.JobSettings;
import io.siamstream.eval.EncoderVersion;
import io.siamstream.eval.ImageEmbedder;
import io.siamstream.record.ModelUpdate;
import io.siamstream.servable.EncoderServable;
import io.siamstream.train.LearnerStateCodec;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.BroadcastProcessFunction;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Embeds image rows with the newest model version seen on the broadcast model-data stream: each output row is the
 * input row, the embedding (DenseVector) and the version that made it. The model data carries the weights, so this
 * needs no exported artifact (the job's EmbeddingOperator, which follows committed artifacts, is the other way). The newest update is broadcast state, so a
 * restored task embeds with the version it had; an older update arriving late is ignored. Images that arrive before
 * any version wait in operator state and are embedded with the first one; if none ever comes, they are not emitted.
 */
final class EmbedImages extends BroadcastProcessFunction<Row, Row, Row> implements CheckpointedFunction {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(EmbedImages.class);
    private static final long NEWEST = 0L;

    static final MapStateDescriptor<Long, ModelUpdate> MODEL = new MapStateDescriptor<>("newest-model", Types.LONG,
            TypeInformation.of(ModelUpdate.class));

    private final JobSettings settings;
    private final String imageCol;
    private final TypeInformation<Row> inputType;

    private transient ImageEmbedder embedder;
    private transient Device device;
    private transient List<Row> waiting;
    private transient ListState<Row> waitingState;

    EmbedImages(JobSettings settings, String imageCol, TypeInformation<Row> inputType) {
        this.settings = settings;
        this.imageCol = imageCol;
        this.inputType = inputType;
    }

    @Override
    public void open(Configuration parameters) {
        device = ExternalGpus.choose(settings.learner().device(), getRuntimeContext(),
                getRuntimeContext().getMetricGroup(), LOG, "embedding");
    }

    @Override
    public void processElement(Row image, ReadOnlyContext ctx, Collector<Row> out) throws Exception {
        ReadOnlyBroadcastState<Long, ModelUpdate> model = ctx.getBroadcastState(MODEL);
        ModelUpdate newest = model.get(NEWEST);
        if (newest == null) {
            waiting.add(image);
            return;
        }
        embed(List.of(image), encoder(newest), out);
    }

    @Override
    public void processBroadcastElement(Row modelRow, Context ctx, Collector<Row> out) throws Exception {
        ModelUpdate update = ModelData.fromRow(modelRow);
        BroadcastState<Long, ModelUpdate> model = ctx.getBroadcastState(MODEL);
        ModelUpdate newest = model.get(NEWEST);
        if (newest != null && newest.version >= update.version) {
            return;
        }
        model.put(NEWEST, update);
        ImageEmbedder current = encoder(update);
        if (!waiting.isEmpty()) {
            embed(waiting, current, out);
            waiting.clear();
        }
    }

    /** The embedder of {@code update}'s version, rebuilt when the version changed (or after a restore). */
    private ImageEmbedder encoder(ModelUpdate update) {
        if (embedder == null || embedder.version() != update.version) {
            if (embedder != null) {
                embedder.close();
            }
            embedder = new ImageEmbedder(new EncoderVersion(update.version, settings.learner().encoder(),
                    settings.channels(), settings.imageSize(), settings.mean(), settings.std(),
                    LearnerStateCodec.decode(update.encoderState)), device);
        }
        return embedder;
    }

    private void embed(List<Row> images, ImageEmbedder with, Collector<Row> out) {
        List<byte[]> pixels = new ArrayList<>(images.size());
        for (Row image : images) {
            pixels.add(image.getFieldAs(imageCol));
        }
        float[][] features = with.embed(pixels);
        for (int i = 0; i < images.size(); i++) {
            Row image = images.get(i);
            Object[] fields = new Object[image.getArity() + 2];
            for (int k = 0; k < image.getArity(); k++) {
                fields[k] = image.getField(k);
            }
            fields[fields.length - 2] = EncoderServable.vector(features[i]);
            fields[fields.length - 1] = with.version();
            out.collect(Row.of(fields));
        }
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        waitingState.update(waiting);
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        waitingState = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("waiting-images",
                inputType));
        waiting = new ArrayList<>();
        for (Row row : waitingState.get()) {
            waiting.add(row);
        }
    }

    @Override
    public void close() {
        if (embedder != null) {
            embedder.close();
            embedder = null;
        }
    }
}
