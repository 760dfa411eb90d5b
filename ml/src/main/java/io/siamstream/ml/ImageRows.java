package io.siamstream.ml;

import io.siamstream.record.ImageRecord;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeFamily;
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.types.Row;

/**
 * Rows of an image table as the job's {@link ImageRecord}s: the image column (BYTES, C x H x W 8-bit pixels of the
 * settings' shape), the id column (an integer, BIGINT or INT: names the image, seeds its views), and the seq column
 * (an integer: its position on the stream, which sequence batching orders by) where the table has one, else
 * seq = id; an INT column {@code label} is carried along where there is one.
 */
final class ImageRows implements MapFunction<Row, ImageRecord> {

    private static final long serialVersionUID = 1L;

    private final String imageCol;
    private final String idCol;
    private final String seqCol;
    private final String labelCol;
    private final int channels;
    private final int size;

    private ImageRows(String imageCol, String idCol, String seqCol, String labelCol, int channels, int size) {
        this.imageCol = imageCol;
        this.idCol = idCol;
        this.seqCol = seqCol;
        this.labelCol = labelCol;
        this.channels = channels;
        this.size = size;
    }

    /** Checks the table's columns (failing with the column and the type it needs) and maps its rows. */
    static ImageRows of(Table images, String imageCol, String idCol, String seqCol, int channels, int size) {
        var schema = images.getResolvedSchema();
        require(images, imageCol, LogicalTypeFamily.BINARY_STRING, "BYTES");
        require(images, idCol, LogicalTypeFamily.INTEGER_NUMERIC, "an integer (BIGINT, or INT)");
        boolean hasSeq = schema.getColumn(seqCol).isPresent();
        if (hasSeq) {
            require(images, seqCol, LogicalTypeFamily.INTEGER_NUMERIC, "an integer (BIGINT, or INT)");
        }
        boolean hasLabel = schema.getColumn("label").isPresent()
                && schema.getColumn("label").get().getDataType().getLogicalType().is(LogicalTypeRoot.INTEGER);
        return new ImageRows(imageCol, idCol, hasSeq ? seqCol : null, hasLabel ? "label" : null, channels, size);
    }

    static void require(Table table, String column, LogicalTypeFamily family, String name) {
        var found = table.getResolvedSchema().getColumn(column);
        if (found.isEmpty()) {
            throw new ValidationException("the image table has no column '" + column + "' (" + name + "); columns: "
                    + table.getResolvedSchema().getColumnNames());
        }
        LogicalType type = found.get().getDataType().getLogicalType();
        if (!type.is(family)) {
            throw new ValidationException("column '" + column + "' is " + type + "; it must be " + name);
        }
    }

    @Override
    public ImageRecord map(Row row) {
        long id = ((Number) row.getField(idCol)).longValue();
        long seq = seqCol == null ? id : ((Number) row.getField(seqCol)).longValue();
        byte[] pixels = row.getFieldAs(imageCol);
        int label = labelCol == null || row.getField(labelCol) == null ? ImageRecord.NO_LABEL
                : row.<Integer>getFieldAs(labelCol);
        // a missing or wrongly sized image goes on as it is: the augmentation stage dead-letters it, as it does a
        // bad image from any other source
        return new ImageRecord(id, seq, 0, channels, size, size, pixels, label);
    }
}
