package io.siamstream.connectors.replay;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/** Versioned serialisation of replay splits and of the enumerator's list of unassigned splits. */
final class ReplaySplitSerializer {

    static final int VERSION = 1;

    private ReplaySplitSerializer() {}

    static void write(DataOutputStream out, ReplaySplit split) throws IOException {
        out.writeInt(split.index());
        out.writeInt(split.count());
        out.writeLong(split.nextSeq());
    }

    static ReplaySplit read(DataInputStream in) throws IOException {
        return new ReplaySplit(in.readInt(), in.readInt(), in.readLong());
    }

    static void checkVersion(int version) throws IOException {
        if (version != VERSION) {
            throw new IOException("replay source state version " + version + " is not supported (this build reads " + VERSION + ")");
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
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(16);
            write(new DataOutputStream(bytes), split);
            return bytes.toByteArray();
        }

        @Override
        public ReplaySplit deserialize(int version, byte[] serialized) throws IOException {
            checkVersion(version);
            return read(new DataInputStream(new ByteArrayInputStream(serialized)));
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
                splits.add(read(in));
            }
            return splits;
        }
    }
}
