package io.siamstream.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import io.siamstream.seed.Seeds;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Installs the initial values of every parameter of a block before {@link Block#initialize} runs, so arrays are
 * created once, with the right values and gradient flags.
 *
 * <p>Fresh values follow PyTorch's defaults for these models, drawn from a generator seeded by (seed, parameter
 * name), independent of the engine's global RNG: convolutions Kaiming-normal with fan-out (torchvision's ResNet),
 * linear weights and biases uniform in +-1/sqrt(fan-in) (nn.Linear), BN scale 1 and shift 0, except the scale of the
 * last BN of each residual branch, which is 0; running mean 0 and variance 1.
 */
public final class ParameterInit {

    /** Where an initial value comes from. */
    @FunctionalInterface
    public interface Values {
        /** The value of parameter {@code name} with the given shape, created in {@code manager}. */
        NDArray create(NDManager manager, String name, Parameter parameter, Shape shape);
    }

    private ParameterInit() {}

    /** Sets the initializer of every parameter of {@code block} to draw from {@code values}. */
    public static void install(Block block, Values values) {
        for (Pair<String, Parameter> pair : block.getParameters()) {
            String name = pair.getKey();
            Parameter parameter = pair.getValue();
            parameter.setInitializer((manager, shape, dataType) -> values.create(manager, name, parameter, shape));
        }
    }

    /** PyTorch-default random values seeded by (seed, parameter name); see the class comment. */
    public static Values pytorchDefaults(Block block, long seed) {
        Map<String, Parameter> byName = new HashMap<>();
        for (Pair<String, Parameter> pair : block.getParameters()) {
            byName.put(pair.getKey(), pair.getValue());
        }
        return (manager, name, parameter, shape) -> {
            int size = Math.toIntExact(shape.size());
            float[] data = new float[size];
            SplittableRandom random = new SplittableRandom(Seeds.derive(seed, Seeds.ofName(name)));
            switch (parameter.getType()) {
                case WEIGHT -> {
                    if (shape.dimension() == 4) {
                        double fanOut = shape.get(0) * shape.get(2) * shape.get(3);
                        double std = Math.sqrt(2.0 / fanOut);
                        for (int i = 0; i < size; i++) {
                            data[i] = (float) (random.nextGaussian() * std);
                        }
                    } else {
                        fillUniform(data, random, 1.0 / Math.sqrt(shape.get(shape.dimension() - 1)));
                    }
                }
                case BIAS -> {
                    String weightName = name.substring(0, name.length() - "bias".length()) + "weight";
                    Parameter weight = byName.get(weightName);
                    if (weight == null || weight.getShape() == null) {
                        throw new IllegalStateException("bias " + name + " has no weight named " + weightName);
                    }
                    Shape weightShape = weight.getShape();
                    long fanIn = weightShape.size() / weightShape.get(0);
                    fillUniform(data, random, 1.0 / Math.sqrt(fanIn));
                }
                case GAMMA -> java.util.Arrays.fill(data, name.contains(ResidualBlock.LAST_BN + "_") ? 0f : 1f);
                case RUNNING_VAR -> java.util.Arrays.fill(data, 1f);
                case BETA, RUNNING_MEAN -> { }
                default -> throw new IllegalStateException("no initial value rule for " + name + " of type "
                        + parameter.getType());
            }
            return manager.create(data, shape);
        };
    }

    private static void fillUniform(float[] data, SplittableRandom random, double bound) {
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
        }
    }
}
