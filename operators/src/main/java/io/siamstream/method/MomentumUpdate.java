package io.siamstream.method;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
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
 *
 * <p>When both networks' parameters are views of flat buffers (a {@link FlatLocator} says where), pairs whose target and
 * online views follow each other in their flat buffers are merged into runs, and the average runs once per run (two
 * for BYOL: weights, then biases and BN parameters) with the same elementwise operations as per tensor.
 */
public final class MomentumUpdate {

    private final List<NDArray[]> pairs = new ArrayList<>();

    /** Pairs every trainable tensor of {@code target} with the online tensor of the same name. */
    public MomentumUpdate(SiameseNetwork target, SiameseNetwork online) {
        this(target, online, null);
    }

    /**
     * As {@link #MomentumUpdate(SiameseNetwork, SiameseNetwork)}, merging pairs into runs over flat buffers where
     * {@code locator} (may be null) places both arrays of consecutive pairs next to each other.
     */
    public MomentumUpdate(SiameseNetwork target, SiameseNetwork online, FlatLocator locator) {
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
        if (locator != null) {
            mergeRuns(locator);
        }
    }

    /** Replaces pairs of adjacent flat views by one pair of 1-d views over the run (made once, kept). */
    private void mergeRuns(FlatLocator locator) {
        List<FlatLocator.Location[]> located = new ArrayList<>();
        List<NDArray[]> loose = new ArrayList<>();
        for (NDArray[] pair : pairs) {
            FlatLocator.Location t = locator.locate(pair[0]);
            FlatLocator.Location o = locator.locate(pair[1]);
            if (t == null || o == null) {
                loose.add(pair);
            } else {
                located.add(new FlatLocator.Location[] {t, o});
            }
        }
        located.sort(java.util.Comparator.<FlatLocator.Location[]>comparingInt(l -> System.identityHashCode(l[0].flat()))
                .thenComparingLong(l -> l[0].offset()));
        List<NDArray[]> runs = new ArrayList<>();
        int i = 0;
        while (i < located.size()) {
            FlatLocator.Location t = located.get(i)[0];
            FlatLocator.Location o = located.get(i)[1];
            long tEnd = t.end();
            long oEnd = o.end();
            int j = i + 1;
            while (j < located.size()) {
                FlatLocator.Location nt = located.get(j)[0];
                FlatLocator.Location no = located.get(j)[1];
                if (nt.flat() != t.flat() || no.flat() != o.flat() || nt.offset() != tEnd || no.offset() != oEnd) {
                    break;
                }
                tEnd = nt.end();
                oEnd = no.end();
                j++;
            }
            runs.add(new NDArray[] {slice(t.flat(), t.offset(), tEnd), slice(o.flat(), o.offset(), oEnd)});
            i = j;
        }
        pairs.clear();
        pairs.addAll(runs);
        pairs.addAll(loose);
    }

    /** A 1-d view of flat[from, to) in the flat buffer's manager, outside any caller's NDScope. */
    private static NDArray slice(NDArray flat, long from, long to) {
        NDArray view = JniUtils.index((PtNDArray) flat, new long[] {from}, new long[] {to}, new long[] {1},
                (PtNDManager) flat.getManager());
        NDScope.unregister(view);
        return view;
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

    /** Number of averaged tensors, or of runs where tensors were merged into runs over flat buffers. */
    public int size() {
        return pairs.size();
    }
}
