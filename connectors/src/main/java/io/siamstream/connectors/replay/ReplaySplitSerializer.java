package io.siamstream.connectors.replay;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Versioned serialisation of replay splits and of the enumerator's list of unassigned splits. Version 2 adds the
 * position in the rejects; version 1 state (written before rejects existed) restores with none emitted yet.
 */
final class ReplaySplitSerializer {

    static final int VERSION = 2;

    private ReplaySplitSerializer() {}

    static void write(DataOutputStream out, ReplaySplit split) throws IOException {
        out.writeInt(split.index());
        out.writeInt(split.count());
        out.writeLong(split.nextSeq());
        out.writeInt(split.nextReject());
    }

    static ReplaySplit read(DataInputStream in, int version) throws IOException {
        int index = in.readInt();
        int count = in.readInt();
        long nextSeq = in.readLong();
        return new ReplaySplit(index, count, nextSeq, version >= 2 ? in.readInt() : 0);
    }

    static void checkVersion(int version) throws IOException {
        if (version < 1 || version > VERSION) {
            throw new IOException("replay source state version " + version + " is not supported (this build reads 1.."
                    + VERSION + ")");
        }
    }

    /** One split. */
    static final class Split implements SimpleVersionedSerializer<ReplaySplit> {
        @Override
        public int getVersion() {
            return VERSION;
        }

        @Override
        public byte[] serialize(ReplaySplit split) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(20);
            write(new DataOutputStream(bytes), split);
            return bytes.toByteArray();
        }

        @Override
        public ReplaySplit deserialize(int version, byte[] serialized) throws IOException {
            checkVersion(version);
            return read(new DataInputStream(new ByteArrayInputStream(serialized)), version);
        }
    }

    /** The enumerator's unassigned splits. */
    static final class Pending implements SimpleVersionedSerializer<List<ReplaySplit>> {
        @Override
        public int getVersion() {
            return VERSION;
        }

        @Override
        public byte[] serialize(List<ReplaySplit> splits) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(splits.size());
            for (ReplaySplit split : splits) {
                write(out, split);
            }
            return bytes.toByteArray();
        }

        @Override
        public List<ReplaySplit> deserialize(int version, byte[] serialized) throws IOException {
            checkVersion(version);
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized));
            int n = in.readInt();
            List<ReplaySplit> splits = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                splits.add(read(in, version));
            }
            return splits;
        }
    }
}
