package io.siamstream.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
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
 */
public final class SgdMomentum implements AutoCloseable {

    private final double momentum;
    private final double weightDecay;
    private final double larsEta;
    private final NDManager manager;
    private final Map<String, NDArray> buffers = new LinkedHashMap<>();

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

    /** d scaled by eta ||w|| / ||d||, or unscaled where either norm is 0; computed on the device, no sync. */
    private NDArray larsAdapted(NDArray w, NDArray d) {
        NDArray weightNorm = w.norm();
        NDArray updateNorm = d.norm();
        NDArray ratio = weightNorm.mul((float) larsEta).div(updateNorm);
        NDArray usable = weightNorm.gt(0f).logicalAnd(updateNorm.gt(0f));
        NDArray trust = NDArrays.where(usable, ratio, weightNorm.onesLike());
        return d.mul(trust);
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

    /** Installs a restored buffer, created in this optimizer's manager. */
    public void restoreBuffer(String name, Tensor value) {
        NDArray old = buffers.put(name, manager.create(value.data(), new ai.djl.ndarray.types.Shape(value.shape())));
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
