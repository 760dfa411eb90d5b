package io.siamstream.connectors.files;

import io.siamstream.connectors.model.CommittedArtifactLoader;
import java.io.FileNotFoundException;
import java.io.IOException;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/** Version directories on any Flink {@link FileSystem} (local, s3://, hdfs:// through Flink's plugins). */
public final class FlinkFileSystemStore implements CommittedArtifactLoader.ArtifactStore {

    private static final long serialVersionUID = 1L;

    @Override
    public byte[] read(String directory, String file) throws IOException {
        Path path = new Path(new Path(directory), file);
        FileSystem fs = path.getFileSystem();
        if (!fs.exists(path)) {
            throw new FileNotFoundException(path.toString());
        }
        try (FSDataInputStream in = fs.open(path)) {
            return in.readAllBytes();
        }
    }
}
