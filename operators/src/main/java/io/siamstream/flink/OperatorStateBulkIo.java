package io.siamstream.flink;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Field;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.core.memory.DataOutputViewStreamWrapper;
import org.apache.flink.runtime.state.CompressibleFSDataOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a large byte array into the stream the operator state backend serializes list state to, in one call.
 *
 * <p>Why: Flink 1.20's operator state backend serializes list state through a {@link DataOutputViewStreamWrapper}
 * over a {@link CompressibleFSDataOutputStream}, which overrides only {@code write(int)}. A bulk write then takes
 * {@link OutputStream}'s byte-by-byte loop, so every byte of the learner (hundreds of MB for a ResNet-18 with its
 * optimizer) goes through a chain of virtual calls in the asynchronous part of each checkpoint, on a core the
 * learner wants. The wrapper forwards each byte unchanged to its compressing delegate (the checkpoint stream itself,
 * or the compression stream when snapshot compression is on), which takes bulk writes; writing the array there
 * produces the same bytes in the same order, since neither wrapper buffers.
 *
 * <p>It reaches the delegate by reflection: {@code FilterOutputStream.out} (java.io, which Flink's distribution and
 * this project's JVM flags open) and the wrapper's private field. Where either cannot be reached, or the stream is
 * another one, it writes through the view as before.
 */
final class OperatorStateBulkWriter {

    private static final Logger LOG = LoggerFactory.getLogger(OperatorStateBulkWriter.class);
    private static final Field FILTER_OUT;
    private static final Field COMPRESSING_DELEGATE;

    static {
        Field out = null;
        Field delegate = null;
        try {
            out = FilterOutputStream.class.getDeclaredField("out");
            out.setAccessible(true);
            delegate = CompressibleFSDataOutputStream.class.getDeclaredField("compressingDelegate");
            delegate.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.info("Operator state is written byte by byte (Flink's stream wrapper cannot be reached: {}); start the"
                    + " JVM with --add-opens=java.base/java.io=ALL-UNNAMED to write the learner in bulk", e.toString());
            out = null;
            delegate = null;
        }
        FILTER_OUT = out;
        COMPRESSING_DELEGATE = delegate;
    }

    private OperatorStateBulkWriter() {}

    /** Writes {@code bytes} to {@code target}, in one call to the stream underneath where it can be reached. */
    static void write(DataOutputView target, byte[] bytes) throws IOException {
        OutputStream direct = bulkStream(target);
        if (direct == null) {
            target.write(bytes);
        } else {
            direct.write(bytes, 0, bytes.length);
        }
    }

    /** The stream under {@code target} that takes bulk writes, or null where there is none to reach. */
    static OutputStream bulkStream(DataOutputView target) {
        if (COMPRESSING_DELEGATE == null || !(target instanceof DataOutputViewStreamWrapper)) {
            return null;
        }
        try {
            Object out = FILTER_OUT.get(target);
            if (out != null && out.getClass() == CompressibleFSDataOutputStream.class) {
                return (OutputStream) COMPRESSING_DELEGATE.get(out);
            }
        } catch (IllegalAccessException e) {
            // accessible since the static initializer succeeded; fall back all the same
        }
        return null;
    }
}
