package io.siamstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.flink.api.java.utils.ParameterTool;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/**
 * On a cluster the job's options may come from the cluster's configuration (a FlinkDeployment's flinkConfiguration)
 * as well as from the program arguments; the arguments win, and Flink's own keys are not copied.
 */
class ClusterOptionsTest {

    @Test
    void clusterKeysFillInAndArgumentsWin() {
        Configuration cluster = Configuration.fromMap(Map.of(
                "siamstream.source.epochs", "3",
                "siamstream.train.batch-size", "32",
                "siamstream.kafka.bootstrap-servers", "kafka:9092",
                "taskmanager.numberOfTaskSlots", "1"));
        Configuration args = ParameterTool.fromArgs(new String[] {"--siamstream.train.batch-size", "64"})
                .getConfiguration();

        Configuration conf = SiamstreamJob.options(args, cluster);

        assertThat(conf.get(SiamstreamOptions.EPOCHS)).isEqualTo(3);
        assertThat(conf.get(SiamstreamOptions.BATCH_SIZE)).as("the program argument wins").isEqualTo(64);
        assertThat(conf.get(SiamstreamOptions.KAFKA_BOOTSTRAP_SERVERS)).isEqualTo("kafka:9092");
        assertThat(conf.toMap()).doesNotContainKey("taskmanager.numberOfTaskSlots");
        assertThat(JobSettings.from(conf).learner().batchSize()).isEqualTo(64);
    }

    @Test
    void withoutAClusterConfigurationTheArgumentsAreAll() {
        Configuration args = ParameterTool.fromArgs(new String[] {"--siamstream.method", "byol"}).getConfiguration();
        assertThat(SiamstreamJob.options(args, new Configuration()).toMap())
                .isEqualTo(args.toMap());
    }
}
