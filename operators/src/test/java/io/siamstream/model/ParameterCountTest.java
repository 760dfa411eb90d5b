package io.siamstream.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.siamstream.method.SimSiamConfig;
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerConfig;
import io.siamstream.train.OptimizerConfig;
import org.junit.jupiter.api.Test;

/**
 * Trainable parameter counts against the PyTorch equivalents (torchvision-style ResNets with the SimSiam heads;
 * bench/pytorch_step.py builds the same models and prints the same counts).
 */
class ParameterCountTest {

    private static long count(EncoderConfig encoder, HeadConfig heads, int channels, int size) {
        LearnerConfig config = new LearnerConfig(SimSiamConfig.paper(), encoder, heads, channels, size, 2,
                OptimizerConfig.simSiamCifar(10), 1, "cpu");
        try (Learner learner = Learner.create(config)) {
            return learner.trainableParameterCount();
        }
    }

    @Test
    void resNet18CifarWithPaperHeadsMatchesPyTorch() {
        // PyTorch: ResNet-18 (3x3 stem, no max-pool, fc removed) + SimSiam 2048/2048/512 heads
        assertThat(count(EncoderConfig.of(EncoderKind.RESNET18_CIFAR, 3), HeadConfig.simSiamPaper(), 3, 32))
                .isEqualTo(22_714_432L);
    }

    @Test
    void resNet50WithPaperHeadsMatchesPyTorch() {
        // torchvision resnet50 without fc: 23,508,032; SimSiam heads on 2048 features: 4,194,304 x 3 (projector
        // linears) + 3 x 4,096 (two affine BNs in the projector, one in the predictor: 4,096 + 4,096 + 1,024)
        // + 1,048,576 + 1,050,624 (predictor linears)
        long heads = 3L * 2048 * 2048 + 2 * 4096 + 2048L * 512 + 1024 + 512L * 2048 + 2048;
        assertThat(count(EncoderConfig.of(EncoderKind.RESNET50, 3), HeadConfig.simSiamPaper(), 3, 64))
                .isEqualTo(23_508_032L + heads);
    }

    @Test
    void smallConvNetOnGrayscale() {
        // convs 9*(1*32 + 32*64 + 64*128 + 128*256) + 2*(32+64+128+256) BN, projector 256*256*3 + 2*512 BN,
        // predictor 256*64 + 128 BN + 64*256 + 256
        long convs = 9L * (32 + 32 * 64 + 64 * 128 + 128 * 256) + 2L * (32 + 64 + 128 + 256);
        long projector = 3L * 256 * 256 + 2 * 512;
        long predictor = 256L * 64 + 128 + 64L * 256 + 256;
        assertThat(count(EncoderConfig.of(EncoderKind.CONVNET, 1), HeadConfig.small(), 1, 28))
                .isEqualTo(convs + projector + predictor);
    }
}
