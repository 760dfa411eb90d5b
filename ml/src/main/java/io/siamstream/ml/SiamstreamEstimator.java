package io.siamstream.ml;

import io.siamstream.job.JobSettings;
import io.siamstream.job.SiamstreamJob;
import io.siamstream.record.ImageRecord;
import io.siamstream.servable.EmbeddingParams;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.ml.api.Estimator;
import org.apache.flink.ml.param.Param;
import org.apache.flink.ml.param.ParamValidators;
import org.apache.flink.ml.param.StringParam;
import org.apache.flink.ml.util.ParamUtils;
import org.apache.flink.ml.util.ReadWriteUtils;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;

/**
 * Self-supervised training (SimSiam, BYOL, SimCLR or MoCo v2, as the parameters say) as a Flink ML
 * {@link Estimator}: {@link #fit} wires the job's training dataflow (augmentation, pairing, the keyed trainer;
 * {@link SiamstreamJob#build}) onto a table of images and returns the {@link EncoderModel} whose model data is the
 * stream of published versions. Nothing runs until the environment executes a pipeline that uses the model. Training
 * sees the table's rows once; evaluation and export are the job's, not fit()'s.
 */
public final class SiamstreamEstimator implements Estimator<SiamstreamEstimator, EncoderModel>,
        SiamstreamParams<SiamstreamEstimator>, EmbeddingParams<SiamstreamEstimator> {

    private static final long serialVersionUID = 1L;

    public static final Param<String> ID_COL = new StringParam("idCol",
            "Input column (BIGINT) naming each image: its views are seeded by it.", "id", ParamValidators.notNull());
    public static final Param<String> SEQ_COL = new StringParam("seqCol",
            "Input column (BIGINT) numbering each occurrence on the stream, unique: sequence batching trains batch b"
                    + " on seqs [b x batch, (b+1) x batch). Where the table has no such column, seq = id.", "seq",
            ParamValidators.notNull());

    private final Map<Param<?>, Object> params = new HashMap<>();

    public SiamstreamEstimator() {
        ParamUtils.initializeMapWithDefaultValues(params, this);
    }

    @Override
    public EncoderModel fit(Table... inputs) {
        if (inputs.length != 1) {
            throw new IllegalArgumentException("fit takes one table of images; got " + inputs.length);
        }
        JobSettings settings = settings();
        Table images = inputs[0];
        ImageRows toRecords = ImageRows.of(images, getImageCol(), get(ID_COL), get(SEQ_COL), settings.channels(),
                settings.imageSize());
        StreamTableEnvironment tEnv = EncoderModel.tableEnvironment(images);
        DataStream<ImageRecord> records = tEnv.toDataStream(images)
                .map(toRecords, TypeInformation.of(ImageRecord.class)).name("image rows");
        SiamstreamJob.Streams streams = SiamstreamJob.build(settings, records,
                (io.siamstream.flink.EvaluationOperator) null);
        Table versions = tEnv.fromDataStream(streams.models().map(ModelData::toRow, ModelData.TYPE)
                .name("model data").setParallelism(1));
        EncoderModel model = new EncoderModel().setModelData(versions);
        ParamUtils.updateExistingParams(model, params);
        return model;
    }

    @Override
    public void save(String path) throws IOException {
        ReadWriteUtils.saveMetadata(this, path);
    }

    public static SiamstreamEstimator load(StreamTableEnvironment tEnv, String path) throws IOException {
        return ReadWriteUtils.loadStageParam(path);
    }

    @Override
    public Map<Param<?>, Object> getParamMap() {
        return params;
    }
}
