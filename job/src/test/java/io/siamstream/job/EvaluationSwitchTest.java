package io.siamstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Collectors;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/** {@code siamstream.eval.enabled}: on by default; off, the job has no evaluation operator at work. */
class EvaluationSwitchTest {

    private static List<String> operatorNames(Configuration conf) {
        JobSettings settings = JobSettings.from(conf);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        SiamstreamJob.build(settings, SiamstreamJob.replaySource(env, settings));
        return env.getTransformations().stream().flatMap(t -> t.getTransitivePredecessors().stream())
                .map(Transformation::getName).distinct().collect(Collectors.toList());
    }

    @Test
    void evaluationIsOnByDefault() {
        assertThat(JobSettings.from(new Configuration()).evaluate()).isTrue();
        assertThat(operatorNames(new Configuration())).contains("evaluate").doesNotContain("evaluate (off)");
    }

    @Test
    void offTheModelUpdatesReachNoEvaluator() {
        Configuration conf = new Configuration();
        conf.setString("siamstream.eval.enabled", "false");
        assertThat(JobSettings.from(conf).evaluate()).isFalse();
        assertThat(operatorNames(conf)).contains("evaluate (off)").doesNotContain("evaluate");
    }
}
