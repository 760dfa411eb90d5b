package io.siamstream.connectors.replay;

import io.siamstream.connectors.idx.FashionMnist;
import io.siamstream.connectors.idx.LabeledImages;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;

/**
 * Which images a replay source reads, loaded by each reader when it starts (the images themselves are not shipped
 * with the job graph). {@code directory} null means the bundled Fashion-MNIST sample.
 */
public record ReplayDataset(String directory, FashionMnist.Split split) implements Serializable {

    public static ReplayDataset bundled(FashionMnist.Split split) {
        return new ReplayDataset(null, split);
    }

    public static ReplayDataset fashionMnist(Path directory, FashionMnist.Split split) {
        return new ReplayDataset(directory.toString(), split);
    }

    public LabeledImages load() throws IOException {
        return directory == null ? FashionMnist.sample(split) : FashionMnist.read(Path.of(directory), split);
    }

    @Override
    public String toString() {
        return (directory == null ? "bundled Fashion-MNIST sample" : directory) + " (" + split + ")";
    }
}
