package io.siamstream.connectors.files;

import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;

/**
 * Exactly-once JSON-lines files: one record per line (the records' toString is their JSON), written by Flink's
 * FileSink and committed on checkpoints, so a restarted job never leaves a line twice.
 */
public final class JsonLinesSink {

    private JsonLinesSink() {}

    public static <T> FileSink<T> to(String directory) {
        return FileSink.<T>forRowFormat(new Path(directory), new SimpleStringEncoder<>())
                .withRollingPolicy(OnCheckpointRollingPolicy.build())
                .build();
    }
}
