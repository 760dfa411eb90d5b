package io.siamstream.connectors.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import io.siamstream.model.EncoderConfig;
import io.siamstream.model.EncoderKind;
import io.siamstream.model.Encoders;
import io.siamstream.train.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TorchNamesTest {

    /** Every DJL parameter of the encoder with a zero tensor of its (unknown: 1-element) shape. */
    private static Map<String, Tensor> encoderParameters(EncoderConfig config) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : Encoders.create(config).block().getParameters()) {
            out.put(p.getKey(), new Tensor(new long[] {1}, new float[1]));
        }
        return out;
    }

    private static List<String> torchNames(EncoderConfig config) {
        return new ArrayList<>(SafetensorsReader.read(ModelArtifacts.encoderWeights(encoderParameters(config), 7).toBytes())
                .tensors().keySet());
    }

    @Test
    void convNetNamesAreTheSequentialIndices() {
        List<String> names = torchNames(EncoderConfig.of(EncoderKind.CONVNET, 1));
        List<String> expected = new ArrayList<>();
        for (int layer = 0; layer < 4; layer++) {
            int conv = 3 * layer;
            expected.add(conv + ".weight");
            for (String s : new String[] {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}) {
                expected.add((conv + 1) + "." + s);
            }
        }
        assertThat(names).containsExactlyElementsOf(expected);
    }

    @Test
    void everyDjlParameterIsMappedExactlyOnce() {
        for (EncoderKind kind : EncoderKind.values()) {
            EncoderConfig config = EncoderConfig.of(kind, 3);
            Map<String, Tensor> djl = encoderParameters(config);
            Map<String, String> mapping = new LinkedHashMap<>();
            djl.keySet().forEach(n -> mapping.put(n, TorchNames.encoder(n)));
            assertThat(TorchNames.checkDistinct(mapping)).as(kind.name()).isEqualTo(djl.size());
            long batchNorms = djl.keySet().stream().filter(TorchNames::isRunningVar).count();
            // the file holds every DJL parameter once plus one num_batches_tracked per BatchNorm
            assertThat(torchNames(config)).as(kind.name()).hasSize((int) (djl.size() + batchNorms))
                    .doesNotHaveDuplicates().containsAll(mapping.values());
        }
    }

    @Test
    void resNet18NamesFollowTheBasicBlock() {
        List<String> names = torchNames(EncoderConfig.of(EncoderKind.RESNET18_CIFAR, 3));
        // 20 conv/shortcut weights + 20 BatchNorms x 5 tensors: the 120 keys of resnet18_cifar().state_dict()
        assertThat(names).hasSize(120).contains("0.weight", "1.running_var", "3.0.conv1.weight", "3.0.bnLast.weight",
                "4.0.shortcut.0.weight", "4.0.shortcut.1.num_batches_tracked", "6.1.bnLast.running_mean")
                .doesNotContain("3.0.shortcut.0.weight");
    }

    @Test
    void headsAndUnknownNames() {
        assertThat(TorchNames.head("02projector_01fc1_weight")).isEqualTo("projector.0.weight");
        assertThat(TorchNames.head("03predictor_04fc2_bias")).isEqualTo("predictor.3.bias");
        assertThatThrownBy(() -> TorchNames.encoder("01conv1_kernel")).hasMessageContaining("kernel");
        assertThatThrownBy(() -> TorchNames.encoder("conv1_weight")).hasMessageContaining("numbered");
    }
}
