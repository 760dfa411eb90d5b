package io.siamstream.tests;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;

/** A Sink v2 that keeps what it receives in a JVM-wide map by name (the MiniCluster runs in the test's JVM). */
final class TestSinks {

    private static final Map<String, List<Object>> RECEIVED = new ConcurrentHashMap<>();

    private TestSinks() {}

    static <T> Sink<T> collecting(String name) {
        RECEIVED.put(name, java.util.Collections.synchronizedList(new ArrayList<>()));
        return new Collecting<>(name);
    }

    @SuppressWarnings("unchecked")
    static <T> List<T> received(String name) {
        synchronized (RECEIVED.get(name)) {
            return new ArrayList<>((List<T>) (List<?>) RECEIVED.get(name));
        }
    }

    private record Collecting<T>(String name) implements Sink<T> {
        @Override
        @SuppressWarnings("deprecation")
        public SinkWriter<T> createWriter(InitContext context) {
            return new SinkWriter<>() {
                @Override
                public void write(T element, Context ctx) {
                    RECEIVED.get(name).add(element);
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }
}
