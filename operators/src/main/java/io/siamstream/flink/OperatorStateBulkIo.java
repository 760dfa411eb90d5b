package io.siamstream.flink;

import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Field;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataInputViewStreamWrapper;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.core.memory.DataOutputViewStreamWrapper;
import org.apache.flink.runtime.state.CompressibleFSDataInputStream;
import org.apache.flink.runtime.state.CompressibleFSDataOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes and reads a large byte array in one call through the streams the operator state backend serializes list
 * state to and restores it from.
 *
 * <p>Why: Flink 1.20's operator state backend writes list state through a {@link DataOutputViewStreamWrapper} over a
 * {@link CompressibleFSDataOutputStream}, which overrides only {@code write(int)}, and restores it through a
 * {@link CompressibleFSDataInputStream}, which overrides only {@code read()}. A bulk write or read then takes
 * {@link OutputStream}'s or {@link InputStream}'s byte-by-byte loop, so every byte of the learner (hundreds of MB for
 * a ResNet-18 with its optimizer) goes through a chain of virtual calls: in the asynchronous part of each checkpoint,
 * on a core the learner wants, and in every restore. Both wrappers forward each byte unchanged to their compressing
 * delegate (the checkpoint stream itself, or the compression stream when snapshot compression is on), which takes
 * whole arrays; writing or reading the array there moves the same bytes in the same order, since neither the
 * wrappers nor the views buffer.
 *
 * <p>It reaches the delegates by reflection: {@code FilterOutputStream.out} and {@code FilterInputStream.in} (java.io,
 * which Flink's distribution, the Kubernetes operator's default JVM options for Flink 1.19+ and this project's JVM
 * flags open) and the wrappers' private fields. Where any of them
 * cannot be reached, or the stream is another one, it goes through the view as before. It relies on the wrappers
 * keeping no per-byte state of their own (Flink 1.20: they only forward, and {@code getPos}/{@code seek} go to the
 * stream underneath); {@code OperatorStateBulkIoTest} runs against Flink's own classes, byte for byte and position
 * for position, so a Flink upgrade that changes that fails there.
 */
final class OperatorStateBulkIo {

    private static final Logger LOG = LoggerFactory.getLogger(OperatorStateBulkIo.class);
    private static final Field FILTER_OUT;
    private static final Field OUT_DELEGATE;
    private static final Field FILTER_IN;
    private static final Field IN_DELEGATE;

    static {
        Field[] fields = new Field[4];
        try {
            fields[0] = accessible(FilterOutputStream.class.getDeclaredField("out"));
            fields[1] = accessible(CompressibleFSDataOutputStream.class.getDeclaredField("compressingDelegate"));
            fields[2] = accessible(FilterInputStream.class.getDeclaredField("in"));
            fields[3] = accessible(CompressibleFSDataInputStream.class.getDeclaredField("compressingDelegate"));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.info("Operator state is written and read byte by byte (Flink's stream wrappers cannot be reached: {});"
                    + " start the JVM with --add-opens=java.base/java.io=ALL-UNNAMED to move the learner in bulk",
                    e.toString());
            fields = new Field[4];
        }
        FILTER_OUT = fields[0];
        OUT_DELEGATE = fields[1];
        FILTER_IN = fields[2];
        IN_DELEGATE = fields[3];
    }

    private OperatorStateBulkIo() {}

    private static Field accessible(Field field) {
        field.setAccessible(true);
        return field;
    }

    /** Writes {@code bytes} to {@code target}, in one call to the stream underneath where it can be reached. */
    static void write(DataOutputView target, byte[] bytes) throws IOException {
        OutputStream direct = bulkStream(target);
        if (direct == null) {
            target.write(bytes);
        } else {
            LearnerCpuPriority.write(direct, bytes);
        }
    }

    /** Fills {@code bytes} from {@code source}, in bulk reads from the stream underneath where it can be reached. */
    static void readFully(DataInputView source, byte[] bytes) throws IOException {
        InputStream direct = bulkStream(source);
        if (direct == null) {
            source.readFully(bytes);
            return;
        }
        int done = 0;
        while (done < bytes.length) {
            int read = direct.read(bytes, done, bytes.length - done);
            if (read < 0) {
                throw new EOFException("operator state ended " + (bytes.length - done) + " bytes before a chunk's end");
            }
            done += read;
        }
    }

    /** The stream under {@code target} that takes bulk writes, or null where there is none to reach. */
    static OutputStream bulkStream(DataOutputView target) {
        return target instanceof DataOutputViewStreamWrapper
                ? (OutputStream) delegateOf(target, FILTER_OUT, CompressibleFSDataOutputStream.class, OUT_DELEGATE)
                : null;
    }

    /** The stream under {@code source} that serves bulk reads, or null where there is none to reach. */
    static InputStream bulkStream(DataInputView source) {
        return source instanceof DataInputViewStreamWrapper
                ? (InputStream) delegateOf(source, FILTER_IN, CompressibleFSDataInputStream.class, IN_DELEGATE)
                : null;
    }

    /**
     * The compressing delegate of the Flink wrapper that {@code view} wraps ({@code filter}: the java.io field that
     * holds it), or null where the fields could not be reached or the wrapped stream is not a {@code wrapper}.
     */
    private static Object delegateOf(Object view, Field filter, Class<?> wrapper, Field delegate) {
        if (delegate == null) {
            return null;
        }
        Object wrapped = get(filter, view);
        return wrapped != null && wrapped.getClass() == wrapper ? get(delegate, wrapped) : null;
    }

    private static Object get(Field field, Object from) {
        try {
            return field.get(from);
        } catch (IllegalAccessException e) {
            return null;   // accessible since the static initializer succeeded; the caller goes through the view
        }
    }
}
