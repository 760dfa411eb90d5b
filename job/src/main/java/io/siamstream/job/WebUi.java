package io.siamstream.job;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;

/** Where the embedded demo's Flink web UI listens: localhost, {@code rest.port} (8081), or a free port when taken. */
final class WebUi {

    static final int DEFAULT_PORT = 8081;

    private WebUi() {}

    /** Sets the REST endpoint (which serves the web UI) to localhost and a port that is free now; returns the port. */
    static int configure(Configuration conf) {
        int wanted = conf.getOptional(RestOptions.PORT).orElse(DEFAULT_PORT);
        int port = isFree(wanted) ? wanted : freePort();
        conf.set(RestOptions.ADDRESS, "localhost");
        conf.set(RestOptions.BIND_ADDRESS, "localhost");
        conf.set(RestOptions.PORT, port);
        conf.set(RestOptions.BIND_PORT, Integer.toString(port));
        return port;
    }

    static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port on localhost for the web UI", e);
        }
    }
}
