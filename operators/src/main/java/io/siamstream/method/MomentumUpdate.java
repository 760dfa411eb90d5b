package io.siamstream.method;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import io.siamstream.model.SiameseNetwork;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The exponential moving average that BYOL's target and MoCo's key encoder follow: xi = tau xi + (1 - tau) theta for
 * every trainable tensor (weights, biases, BN scale and shift) of the target, theta being the online tensor of the
 * same name. The target's BN running statistics are its own (updated by its forward passes), as in both papers' code.
 */
public final class MomentumUpdate {

    private final List<NDArray[]> pairs = new ArrayList<>();

    /** Pairs every trainable tensor of {@code target} with the online tensor of the same name. */
    public MomentumUpdate(SiameseNetwork target, SiameseNetwork online) {
        Map<String, Parameter> onlineByName = online.getParameters().toMap();
        for (Pair<String, Parameter> pair : target.getParameters()) {
            if (!isTrainable(pair.getValue())) {
                continue;
            }
            Parameter source = onlineByName.get(pair.getKey());
            if (source == null) {
                throw new IllegalStateException("target parameter " + pair.getKey() + " has no online counterpart");
            }
            pairs.add(new NDArray[] {pair.getValue().getArray(), source.getArray()});
        }
    }

    /** Whether a parameter of this type is learned (and so averaged) rather than a running statistic. */
    public static boolean isTrainable(Parameter parameter) {
        return switch (parameter.getType()) {
            case RUNNING_MEAN, RUNNING_VAR -> false;
            default -> true;
        };
    }

    /** Applies xi = tau xi + (1 - tau) theta in place to every pair. Call with gradient recording off. */
    public void apply(double tau) {
        if (tau == 1.0) {
            return;
        }
        float keep = (float) tau;
        float take = (float) (1.0 - tau);
        for (NDArray[] pair : pairs) {
            pair[0].muli(keep).addi(pair[1].mul(take));
        }
    }

    /** Number of averaged tensors. */
    public int size() {
        return pairs.size();
    }
}
