package io.siamstream.ml;

import io.siamstream.record.ModelUpdate;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.types.Row;

/**
 * The rows of the model-data table: one per published version, in the order the trainer published them (version =
 * training step, increasing), with the frozen encoder's weights as learner-state bytes ({@code LearnerStateCodec})
 * and the publishing step's metrics.
 */
public final class ModelData {

    public static final String VERSION = "version";
    public static final String STEP = "step";
    public static final String EPOCH = "epoch";
    public static final String LOSS = "loss";
    public static final String PROJECTION_STD = "projection_std";
    public static final String OUTPUT_STD = "output_std";
    public static final String WALL_TIME_MS = "wall_time_ms";
    public static final String FINGERPRINT = "fingerprint";
    public static final String ENCODER_STATE = "encoder_state";

    public static final RowTypeInfo TYPE = new RowTypeInfo(
            new TypeInformation<?>[] {Types.LONG, Types.LONG, Types.LONG, Types.DOUBLE, Types.DOUBLE, Types.DOUBLE,
                Types.LONG, Types.STRING, Types.PRIMITIVE_ARRAY(Types.BYTE)},
            new String[] {VERSION, STEP, EPOCH, LOSS, PROJECTION_STD, OUTPUT_STD, WALL_TIME_MS, FINGERPRINT,
                ENCODER_STATE});

    private ModelData() {}

    public static Row toRow(ModelUpdate u) {
        return Row.of(u.version, u.step, u.epoch, u.loss, u.projectionStd, u.outputStd, u.wallTimeMillis, u.fingerprint,
                u.encoderState);
    }

    /** A model-data row (by column name, as the Table API hands it back) as the update it came from. */
    public static ModelUpdate fromRow(Row row) {
        ModelUpdate u = new ModelUpdate();
        u.version = row.<Long>getFieldAs(VERSION);
        u.step = row.<Long>getFieldAs(STEP);
        u.epoch = row.<Long>getFieldAs(EPOCH);
        u.loss = row.<Double>getFieldAs(LOSS);
        u.projectionStd = row.<Double>getFieldAs(PROJECTION_STD);
        u.outputStd = row.<Double>getFieldAs(OUTPUT_STD);
        u.wallTimeMillis = row.<Long>getFieldAs(WALL_TIME_MS);
        u.fingerprint = row.getFieldAs(FINGERPRINT);
        u.encoderState = row.getFieldAs(ENCODER_STATE);
        return u;
    }
}
