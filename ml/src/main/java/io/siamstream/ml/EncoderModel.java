package io.siamstream.ml;

import io.siamstream.job.JobSettings;
import io.siamstream.servable.EmbeddingParams;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.ml.api.Model;
import org.apache.flink.ml.linalg.typeinfo.DenseVectorTypeInfo;
import org.apache.flink.ml.param.Param;
import org.apache.flink.ml.util.ParamUtils;
import org.apache.flink.ml.util.ReadWriteUtils;
import org.apache.flink.streaming.api.datastream.BroadcastStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.api.internal.TableImpl;
import org.apache.flink.table.runtime.typeutils.ExternalTypeInfo;
import org.apache.flink.types.Row;

/**
 * The encoder that {@link SiamstreamEstimator#fit} trains, as a Flink ML {@link Model}. Its model data is the
 * versioned stream of published encoders ({@link ModelData}: one row per version, increasing); {@link #transform}
 * adds to each image row the embedding (a DenseVector) and the version that made it, the newest version seen when
 * the image is embedded. The images follow the training settings' shape and normalisation (the parameters).
 */
public final class EncoderModel implements Model<EncoderModel>, SiamstreamParams<EncoderModel>,
        EmbeddingParams<EncoderModel> {

    private static final long serialVersionUID = 1L;

    private final Map<Param<?>, Object> params = new HashMap<>();
    private Table modelData;

    public EncoderModel() {
        ParamUtils.initializeMapWithDefaultValues(params, this);
    }

    @Override
    public EncoderModel setModelData(Table... inputs) {
        if (inputs.length != 1) {
            throw new IllegalArgumentException("the model data is one table of versions; got " + inputs.length);
        }
        for (String column : ModelData.TYPE.getFieldNames()) {
            if (inputs[0].getResolvedSchema().getColumn(column).isEmpty()) {
                throw new ValidationException("model data has no column '" + column + "'; expected "
                        + Arrays.toString(ModelData.TYPE.getFieldNames()));
            }
        }
        modelData = inputs[0];
        return this;
    }

    @Override
    public Table[] getModelData() {
        return new Table[] {requireModelData()};
    }

    @Override
    public Table[] transform(Table... inputs) {
        if (inputs.length != 1) {
            throw new IllegalArgumentException("transform takes one table of images; got " + inputs.length);
        }
        Table images = inputs[0];
        JobSettings settings = settings();
        ImageRows.require(images, getImageCol(), org.apache.flink.table.types.logical.LogicalTypeFamily.BINARY_STRING,
                "BYTES");
        var names = images.getResolvedSchema().getColumnNames();
        for (String out : new String[] {getEmbeddingCol(), getVersionCol()}) {
            if (names.contains(out)) {
                throw new ValidationException("the image table already has a column '" + out + "'; set "
                        + EMBEDDING_COL.name + " / " + VERSION_COL.name + " to another name");
            }
        }
        StreamTableEnvironment tEnv = tableEnvironment(images);
        DataStream<Row> rows = tEnv.toDataStream(images);
        TypeInformation<Row> inputType = rows.getType();
        BroadcastStream<Row> versions = tEnv.toDataStream(requireModelData())
                .broadcast(EmbedImages.MODEL);
        TypeInformation<?>[] types = new TypeInformation<?>[names.size() + 2];
        String[] outNames = new String[names.size() + 2];
        for (int i = 0; i < names.size(); i++) {
            types[i] = ExternalTypeInfo.of(images.getResolvedSchema().getColumnDataTypes().get(i));
            outNames[i] = names.get(i);
        }
        types[names.size()] = DenseVectorTypeInfo.INSTANCE;
        types[names.size() + 1] = Types.LONG;
        outNames[names.size()] = getEmbeddingCol();
        outNames[names.size() + 1] = getVersionCol();
        DataStream<Row> embedded = rows.connect(versions)
                .process(new EmbedImages(settings, getImageCol(), inputType), new RowTypeInfo(types, outNames))
                .name("embed images");
        return new Table[] {tEnv.fromDataStream(embedded)};
    }

    static StreamTableEnvironment tableEnvironment(Table table) {
        if (!(table instanceof TableImpl impl) || !(impl.getTableEnvironment() instanceof StreamTableEnvironment t)) {
            throw new IllegalArgumentException("the table must come from a StreamTableEnvironment");
        }
        return t;
    }

    private Table requireModelData() {
        if (modelData == null) {
            throw new IllegalStateException("the model has no model data: fit an estimator or call setModelData");
        }
        return modelData;
    }

    /**
     * Writes the parameters. The versions themselves are what the job exports as artifacts
     * ({@code siamstream.export.models}), which {@code EncoderServable} reads.
     */
    @Override
    public void save(String path) throws IOException {
        ReadWriteUtils.saveMetadata(this, path);
    }

    public static EncoderModel load(StreamTableEnvironment tEnv, String path) throws IOException {
        return ReadWriteUtils.loadStageParam(path);
    }

    @Override
    public Map<Param<?>, Object> getParamMap() {
        return params;
    }
}
