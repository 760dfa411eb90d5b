package io.siamstream.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SGD with momentum and weight decay exactly as torch.optim.SGD computes it (dampening 0, not Nesterov):
 * d = g + wd * w; b = m * b + d (b = d on the first step); w = w - lr * b.
 *
 * <p>With a positive trust coefficient eta it is LARS (You et al. 2017) as BYOL and SimCLR use it: for a weight
 * matrix or kernel, d = g + wd * w is scaled by the layer's trust ratio eta ||w|| / ||d|| (1 when either norm is 0)
 * before entering the momentum buffer; biases and batch-norm parameters (one-dimensional tensors) are excluded from
 * both the adaptation and the weight decay (d = g). The buffers are the same as SGD's, so LARS's state is saved the
 * same way.
 *
 * <p>The momentum buffers are keyed by parameter name and live in this optimizer's own manager, so they can be
 * written to a checkpoint and restored into a fresh learner (DJL's own SGD keys them by instance ids and keeps them
 * private). Temporaries of an update are created under the caller's NDScope and closed with it.
 *
 * <p>Two ways to update: {@link #update(List, double)} loops over loose parameters (several native calls each, the
 * reference), and {@link #update(FlatParams, double)} updates a group whose parameters, gradients and momentum buffers
 * are views of flat buffers with a handful of native calls for the whole group. Both compute the same elementwise
 * operations in the same order, so their results are identical bit for bit; the flat one's per-name buffers are views
 * of its flat buffer, so {@link #buffers()} and {@link #restoreBuffer} are the same for both.
 */
public final class SgdMomentum implements AutoCloseable {

    private final double momentum;
    private final double weightDecay;
    private final double larsEta;
    private final NDManager manager;
    private final Map<String, NDArray> buffers = new LinkedHashMap<>();
    private final Map<FlatParams, FlatBuffer> flat = new java.util.IdentityHashMap<>();
    private final NDArray momentumScalar;
    private final NDArray weightDecayScalar;
    private final NDArray etaScalar;

    public SgdMomentum(NDManager parent, double momentum, double weightDecay) {
        this(parent, momentum, weightDecay, 0);
    }

    /** SGD, or LARS when {@code larsEta} is positive. */
    public SgdMomentum(NDManager parent, double momentum, double weightDecay, double larsEta) {
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("optimizer.momentum: " + momentum + " must be in [0, 1)");
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("optimizer.weight-decay: " + weightDecay + " must be >= 0");
        }
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.larsEta = larsEta;
        this.manager = parent.newSubManager();
        // the scalar operands of every flat update, made once: x.mul(Number) makes the same 0-d array each call
        this.momentumScalar = manager.create((float) momentum);
        this.weightDecayScalar = manager.create((float) weightDecay);
        this.etaScalar = manager.create((float) larsEta);
        for (NDArray scalar : List.of(momentumScalar, weightDecayScalar, etaScalar)) {
            NDScope.unregister(scalar);
        }
    }

    /**
     * The momentum buffer of a flat group: one flat array (made at the first update or restore) with a view per
     * parameter, and which parameters have a buffer yet (all or none, except after restoring a partial state).
     */
    private static final class FlatBuffer {
        NDArray array;
        NDArray[] views;
        /** Where a product of the group's size is made each step (see {@link #scaled}); with its matrix region. */
        NDArray scratch;
        NDArray matrixScratch;
        final boolean[] present;
        int presentCount;

        FlatBuffer(int n) {
            present = new boolean[n];
        }
    }

    /**
     * Registers a flat group, so that {@link #restoreBuffer} can find its parameters' names. Register groups in the
     * order they are updated: that is the order of {@link #buffers()}.
     */
    public void register(FlatParams group) {
        flat.putIfAbsent(group, new FlatBuffer(group.params().size()));
    }

    /** A named trainable tensor. */
    public record Param(String name, NDArray value) {}

    /** Applies one update to each parameter with learning rate {@code lr}, then zeroes its gradient. */
    public void update(List<Param> params, double lr) {
        for (Param param : params) {
            NDArray w = param.value();
            NDArray d = w.getGradient();
            if (larsEta > 0) {
                if (w.getShape().dimension() > 1) {
                    d = larsAdapted(w, weightDecay != 0 ? d.add(w.mul((float) weightDecay)) : d);
                }
            } else if (weightDecay != 0) {
                d = d.add(w.mul((float) weightDecay));
            }
            if (momentum == 0) {
                w.subi(d.mul((float) lr));
            } else {
                NDArray buffer = buffers.get(param.name());
                if (buffer == null) {
                    buffers.put(param.name(), keep(d.duplicate()));
                    buffer = buffers.get(param.name());
                } else {
                    buffer.muli((float) momentum).addi(d);
                }
                w.subi(buffer.mul((float) lr));
            }
            JniUtils.zeroGrad((PtNDArray) w);
        }
    }

    /**
     * Applies one update to every parameter of {@code group} with learning rate {@code lr}, then zeroes the group's
     * gradients; the same arithmetic as {@link #update(List, double)}, on the flat buffers: d = g + wd w in place in the
     * gradient buffer (LARS: on the multi-dimensional region only, then each layer's slice scaled by its trust ratio),
     * b = m b + d (b = d on the first step), w = w - lr b.
     */
    public void update(FlatParams group, double lr) {
        if (group.isEmpty()) {
            return;
        }
        register(group);
        NDArray w = group.values();
        NDArray d = group.grads();
        FlatBuffer buffer = flat.get(group);
        if (buffer.scratch == null) {
            buffer.scratch = keep(manager.zeros(new Shape(group.size())));
            if (group.matrixSize() > 0) {
                buffer.matrixScratch = group.slice(buffer.scratch, 0, group.matrixSize());
            }
        }
        if (larsEta > 0) {
            if (group.matrixSize() > 0) {
                if (weightDecay != 0) {
                    group.matrixGrads().addi(scaled(group.matrixValues(), weightDecayScalar, buffer.matrixScratch));
                }
                larsAdaptInPlace(group);
            }
        } else if (weightDecay != 0) {
            d.addi(scaled(w, weightDecayScalar, buffer.scratch));
        }
        NDArray lrScalar = manager.create((float) lr);
        if (momentum == 0) {
            w.subi(scaled(d, lrScalar, buffer.scratch));
        } else {
            if (buffer.presentCount == buffer.present.length) {
                buffer.array.muli(momentumScalar).addi(d);
            } else if (buffer.array == null) {
                buffer.array = keep(d.duplicate());
                makeViews(group, buffer);
                markAllPresent(group, buffer);
            } else {
                // a partially restored state: per parameter, as the loose update would do it
                for (int i = 0; i < buffer.present.length; i++) {
                    long from = group.offset(i);
                    long to = from + group.size(i);
                    NDArray di = JniUtils.index((PtNDArray) d, new long[] {from}, new long[] {to}, new long[] {1},
                            (ai.djl.pytorch.engine.PtNDManager) manager);
                    if (buffer.present[i]) {
                        NDArray bi = JniUtils.index((PtNDArray) buffer.array, new long[] {from}, new long[] {to},
                                new long[] {1}, (ai.djl.pytorch.engine.PtNDManager) manager);
                        bi.muli(momentumScalar).addi(di);
                    } else {
                        JniUtils.indexSet((PtNDArray) buffer.array, (PtNDArray) di, new long[] {from},
                                new long[] {to}, new long[] {1});
                    }
                }
                markAllPresent(group, buffer);
            }
            w.subi(scaled(buffer.array, lrScalar, buffer.scratch));
        }
        group.zeroGradients();
    }

    /**
     * {@code a x s} written into {@code scratch}, a buffer of a's size kept from step to step: a copy into it, then an
     * in-place multiply, which rounds as {@code a.mul(s)} does. A fresh product of a large group (tens of MB for a
     * ResNet-18 with its heads) would be a new mapping every step, whose pages the kernel faults in and zeroes: glibc
     * maps every block of 32 MB and more afresh, whatever its settings.
     */
    private static NDArray scaled(NDArray a, NDArray s, NDArray scratch) {
        JniUtils.indexSet((PtNDArray) scratch, (PtNDArray) a, new long[] {0}, new long[] {a.size()}, new long[] {1});
        return scratch.muli(s);
    }

    /**
     * LARS on the gradient buffer of {@code group}, already holding d = g + wd w in its multi-dimensional region: each
     * layer's slice is scaled by eta ||w|| / ||d|| (1 where either norm is 0). The norms are taken per layer (on views,
     * bit for bit the loose update's); the ratios are computed once for all layers on stacked norms.
     */
    private void larsAdaptInPlace(FlatParams group) {
        List<NDArray> values = group.matrixValueSlices();
        List<NDArray> grads = group.matrixGradSlices();
        NDList weightNorms = new NDList(values.size());
        NDList updateNorms = new NDList(values.size());
        for (int i = 0; i < values.size(); i++) {
            weightNorms.add(values.get(i).norm());
            updateNorms.add(grads.get(i).norm());
        }
        NDArray weightNorm = NDArrays.stack(weightNorms);
        NDArray updateNorm = NDArrays.stack(updateNorms);
        NDArray ratio = weightNorm.mul(etaScalar).div(updateNorm);
        NDArray usable = weightNorm.gt(0f).logicalAnd(updateNorm.gt(0f));
        NDArray trust = NDArrays.where(usable, ratio, weightNorm.onesLike());
        NDList perLayer = trust.split(values.size());
        for (int i = 0; i < grads.size(); i++) {
            grads.get(i).muli(perLayer.get(i));
        }
    }

    private void makeViews(FlatParams group, FlatBuffer buffer) {
        List<Param> params = group.params();
        buffer.views = new NDArray[params.size()];
        for (int i = 0; i < params.size(); i++) {
            buffer.views[i] = group.parameterView(buffer.array, i, params.get(i).value().getShape());
        }
    }

    private void markAllPresent(FlatParams group, FlatBuffer buffer) {
        for (int i = 0; i < buffer.present.length; i++) {
            if (!buffer.present[i]) {
                buffer.present[i] = true;
                buffers.put(group.params().get(i).name(), buffer.views[i]);
            }
        }
        buffer.presentCount = buffer.present.length;
    }

    /** d scaled by eta ||w|| / ||d||, or unscaled where either norm is 0; computed on the device, no sync. */
    private NDArray larsAdapted(NDArray w, NDArray d) {
        NDArray weightNorm = w.norm();
        NDArray updateNorm = d.norm();
        NDArray ratio = weightNorm.mul((float) larsEta).div(updateNorm);
        NDArray usable = weightNorm.gt(0f).logicalAnd(updateNorm.gt(0f));
        NDArray trust = NDArrays.where(usable, ratio, weightNorm.onesLike());
        return d.mul(trust);
    }

    /** Clears the gradients of a flat group without updating (a skipped step): one native call. */
    public static void zeroGradients(FlatParams group) {
        group.zeroGradients();
    }

    /** Clears gradients without updating (a skipped step). */
    public static void zeroGradients(List<Param> params) {
        for (Param param : params) {
            JniUtils.zeroGrad((PtNDArray) param.value());
        }
    }

    /** The momentum buffers by parameter name (live arrays; copy before the next update). */
    public Map<String, NDArray> buffers() {
        return buffers;
    }

    /**
     * Installs a restored buffer: for a parameter of a registered flat group it is copied into that parameter's view
     * of the group's flat buffer (which stays a view); otherwise it is created in this optimizer's manager.
     */
    public void restoreBuffer(String name, Tensor value) {
        for (Map.Entry<FlatParams, FlatBuffer> entry : flat.entrySet()) {
            FlatParams group = entry.getKey();
            int i = group.indexOf(name);
            if (i < 0) {
                continue;
            }
            Shape shape = group.params().get(i).value().getShape();
            if (!new Shape(value.shape()).equals(shape)) {
                throw new IllegalStateException("the momentum buffer of " + name + " has shape "
                        + new Shape(value.shape()) + " but the parameter has " + shape);
            }
            FlatBuffer buffer = entry.getValue();
            if (buffer.array == null) {
                buffer.array = keep(manager.zeros(new Shape(group.size())));
                makeViews(group, buffer);
            }
            long from = group.offset(i);
            try (NDScope scope = new NDScope()) {
                NDArray data = manager.create(value.data());
                JniUtils.indexSet((PtNDArray) buffer.array, (PtNDArray) data, new long[] {from},
                        new long[] {from + group.size(i)}, new long[] {1});
            }
            if (!buffer.present[i]) {
                buffer.present[i] = true;
                buffer.presentCount++;
            }
            buffers.put(name, buffer.views[i]);
            return;
        }
        NDArray old = buffers.put(name, manager.create(value.data(), new Shape(value.shape())));
        if (old != null) {
            old.close();
        }
    }

    /** Moves an array out of the caller's NDScope into this optimizer's manager. */
    private NDArray keep(NDArray array) {
        NDScope.unregister(array);
        array.attach(manager);
        return array;
    }

    @Override
    public void close() {
        manager.close();
    }
}
