package io.siamstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.junit.jupiter.api.Test;

/** The demo's web UI port: the one asked for when it is free, another free one when it is taken. */
class WebUiTest {

    @Test
    void aTakenPortFallsBackToAFreeOne() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Configuration conf = new Configuration();
            conf.set(RestOptions.PORT, taken.getLocalPort());
            int port = WebUi.configure(conf);
            assertThat(port).isNotEqualTo(taken.getLocalPort()).isPositive();
            assertThat(conf.get(RestOptions.PORT)).isEqualTo(port);
            assertThat(conf.get(RestOptions.BIND_PORT)).isEqualTo(Integer.toString(port));
            assertThat(conf.get(RestOptions.BIND_ADDRESS)).isEqualTo("localhost");
        }
    }

    @Test
    void aFreePortIsKept() throws Exception {
        int free;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            free = s.getLocalPort();
        }
        Configuration conf = new Configuration();
        conf.set(RestOptions.PORT, free);
        assertThat(WebUi.configure(conf)).isEqualTo(free);
    }
}
