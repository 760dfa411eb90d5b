package io.siamstream.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A group of parameters whose arrays are views of one contiguous flat buffer, so that an optimizer (or an EMA) updates
 * the whole group with a handful of native calls instead of several per parameter.
 *
 * <p>How the views are made: after {@code Block.initialize} created the parameters' arrays, their values are copied
 * (bit for bit) into one flat FLOAT32 buffer that does not require a gradient, and each {@link Parameter} is pointed at
 * a view of it: {@code Parameter.close()} drops the old array (the shape stays), and {@code Parameter.initialize} with an
 * initializer that returns the view installs it and, for a trainable parameter, sets requiresGradient on the view. A
 * view of a tensor that does not require a gradient is a leaf in PyTorch, so backward fills each view's own .grad.
 *
 * <p>The gradients are views of one flat buffer too: a one-time backward of {@code cat(view_i.reshape(-1))} with the flat
 * zero buffer as its incoming gradient hands each leaf a gradient that is a slice of that buffer, which PyTorch's
 * AccumulateGrad keeps as the leaf's .grad (it steals a gradient that nothing else references); later backward passes
 * add into it in place ({@code grad += new}, as after any zero_grad), so after every backward the flat buffer holds all
 * gradients of the group. The constructor checks that aliasing and fails loudly if PyTorch copied instead.
 *
 * <p>Layout: parameters with more than one dimension (weight matrices and kernels) come first, in the given order, then
 * the one-dimensional ones (biases, batch-norm scale and shift): LARS adapts and decays only the first region, so both
 * regions are single slices. {@link #params()} keeps the given order, so names, snapshots and codec are unchanged.
 *
 * <p>All arrays (buffers, views, cached slices) live in this group's own sub-manager.
 */
public final class FlatParams implements AutoCloseable {

    private final NDManager manager;
    private final List<SgdMomentum.Param> params;
    /** Offsets and sizes in the flat buffers, in {@link #params()} order. */
    private final long[] offsets;
    private final long[] sizes;
    private final Map<String, Integer> indexByName = new HashMap<>();
    private final long size;
    /** Elements of the leading region of parameters with more than one dimension. */
    private final long matrixSize;
    /** Indices (into params) of the multi-dimensional parameters, in flat order. */
    private final int[] matrices;
    /** Indices (into params) in flat order. */
    private final int[] flatOrder;
    private final NDArray values;
    private final NDArray grads;
    private final NDArray zero;
    /** Per multi-dimensional parameter: 1-d slices of values and grads (cached views, made once). */
    private final List<NDArray> matrixValueSlices = new ArrayList<>();
    private final List<NDArray> matrixGradSlices = new ArrayList<>();
    private final NDArray matrixValues;
    private final NDArray matrixGrads;

    private FlatParams(NDManager parent, List<Pair<String, Parameter>> group, boolean trainable) {
        this.manager = parent.newSubManager();
        int n = group.size();
        this.params = new ArrayList<>(n);
        this.offsets = new long[n];
        this.sizes = new long[n];
        List<Integer> order = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            if (group.get(i).getValue().getArray().getShape().dimension() > 1) {
                order.add(i);
            }
        }
        this.matrices = order.stream().mapToInt(Integer::intValue).toArray();
        for (int i = 0; i < n; i++) {
            if (group.get(i).getValue().getArray().getShape().dimension() <= 1) {
                order.add(i);
            }
        }
        long offset = 0;
        long matrixEnd = 0;
        for (int k = 0; k < n; k++) {
            int i = order.get(k);
            NDArray array = group.get(i).getValue().getArray();
            if (array.getDataType() != DataType.FLOAT32) {
                throw new IllegalArgumentException("parameter " + group.get(i).getKey() + " is "
                        + array.getDataType() + ", only FLOAT32 parameters can be flattened");
            }
            offsets[i] = offset;
            sizes[i] = array.getShape().size();
            offset += sizes[i];
            if (k < matrices.length) {
                matrixEnd = offset;
            }
        }
        this.size = offset;
        this.matrixSize = matrixEnd;
        this.flatOrder = order.stream().mapToInt(Integer::intValue).toArray();

        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            // the values, bit for bit, in flat order (cat copies)
            try (NDScope scope = new NDScope()) {
                NDList pieces = new NDList(n);
                for (int i : order) {
                    pieces.add(group.get(i).getValue().getArray().reshape(-1));
                }
                values = keep(n == 0 ? manager.zeros(new Shape(0)) : concat(pieces));
            }
            for (int i = 0; i < n; i++) {
                Parameter parameter = group.get(i).getValue();
                Shape shape = parameter.getArray().getShape();
                NDArray view = parameterView(values, i, shape);
                parameter.close();
                parameter.setInitializer((m, s, t) -> view);
                parameter.initialize(manager, DataType.FLOAT32);
                if (parameter.getArray() != view) {
                    throw new IllegalStateException("parameter " + group.get(i).getKey() + " did not take its view");
                }
                params.add(new SgdMomentum.Param(group.get(i).getKey(), view));
                indexByName.put(group.get(i).getKey(), i);
            }
            grads = keep(manager.zeros(new Shape(size)));
            zero = keep(manager.create(0f));
            if (trainable && n > 0) {
                installGradients();
            }
            matrixValues = slice(values, 0, matrixSize);
            matrixGrads = slice(grads, 0, matrixSize);
            for (int i : matrices) {
                matrixValueSlices.add(slice(values, offsets[i], sizes[i]));
                matrixGradSlices.add(slice(grads, offsets[i], sizes[i]));
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /**
     * Re-points the arrays of {@code group}'s parameters (initialized, FLOAT32) at views of one flat buffer and, where
     * {@code trainable}, their gradients at views of one flat gradient buffer. Call before the first forward pass (a
     * ParameterStore keeps the array it saw first) and before anything else keeps a parameter's array.
     */
    public static FlatParams of(NDManager parent, List<Pair<String, Parameter>> group, boolean trainable) {
        return new FlatParams(parent, group, trainable);
    }

    /** Makes every view's .grad a view of {@link #grads} (see the class comment), then checks that it is. */
    private void installGradients() {
        try (NDScope scope = new NDScope()) {
            JniUtils.setGradMode(true);
            NDList pieces = new NDList(params.size());
            for (int i : flatOrder) {
                pieces.add(params.get(i).value().reshape(-1));
            }
            NDArray all = concat(pieces);
            JniUtils.setGradMode(false);
            JniUtils.backward((PtNDArray) all, (PtNDArray) grads, false, false);
            // check: a pattern written into the flat buffer must be what each view's gradient reads
            NDArray pattern = manager.arange(0f, (float) size).add(1f);
            grads.addi(pattern);
            NDList read = new NDList(params.size());
            for (int i : flatOrder) {
                read.add(params.get(i).value().getGradient().reshape(-1));
            }
            boolean aliased = concat(read).contentEquals(pattern);
            zeroGradients();
            if (!aliased) {
                throw new IllegalStateException("PyTorch copied the installed gradients instead of keeping views of "
                        + "the flat gradient buffer: the flat optimizer cannot be used with this engine version");
            }
        } finally {
            JniUtils.setGradMode(false);
        }
    }

    private static NDArray concat(NDList pieces) {
        return pieces.size() == 1 ? pieces.get(0).duplicate() : NDArrays.concat(pieces);
    }

    /** A 1-d view of {@code flat}[from, from + length), attached to this group's manager (not to a caller's scope). */
    NDArray slice(NDArray flat, long from, long length) {
        return keep(JniUtils.index((PtNDArray) flat, new long[] {from}, new long[] {from + length}, new long[] {1},
                (PtNDManager) manager));
    }

    /**
     * Parameter {@code index}'s part of {@code flat} (a buffer laid out like this group's: values, gradients or momentum),
     * shaped as the parameter ({@code shape}), kept in this group's manager.
     */
    NDArray parameterView(NDArray flat, int index, Shape shape) {
        try (NDArray flatView = slice(flat, offsets[index], sizes[index])) {
            return keep(JniUtils.reshape((PtNDArray) flatView, shape.getShape()));
        }
    }

    /** Keeps {@code array} in this group's manager, out of any NDScope the caller has open. */
    private NDArray keep(NDArray array) {
        NDScope.unregister(array);
        array.attach(manager);
        return array;
    }

    /** The parameters in the given order: name and array (a view of {@link #values()}). */
    public List<SgdMomentum.Param> params() {
        return Collections.unmodifiableList(params);
    }

    /** Adds where each parameter's array lies in {@link #values()} to {@code into}, keyed by the array. */
    public void addLocations(Map<NDArray, io.siamstream.method.FlatLocator.Location> into) {
        for (int i = 0; i < params.size(); i++) {
            into.put(params.get(i).value(), new io.siamstream.method.FlatLocator.Location(values, offsets[i], sizes[i]));
        }
    }

    /** Index of {@code name} in {@link #params()}, or -1. */
    public int indexOf(String name) {
        return indexByName.getOrDefault(name, -1);
    }

    public long offset(int index) {
        return offsets[index];
    }

    public long size(int index) {
        return sizes[index];
    }

    /** Number of scalars in the group. */
    public long size() {
        return size;
    }

    public boolean isEmpty() {
        return params.isEmpty();
    }

    /** The flat values: every parameter's array is a view of it. */
    public NDArray values() {
        return values;
    }

    /** The flat gradients (of a trainable group): every parameter's .grad is a view of it. */
    public NDArray grads() {
        return grads;
    }

    /** Elements of the leading region of multi-dimensional parameters. */
    long matrixSize() {
        return matrixSize;
    }

    NDArray matrixValues() {
        return matrixValues;
    }

    NDArray matrixGrads() {
        return matrixGrads;
    }

    /** 1-d views of each multi-dimensional parameter's values, in flat order. */
    List<NDArray> matrixValueSlices() {
        return matrixValueSlices;
    }

    /** 1-d views of each multi-dimensional parameter's gradient, in flat order. */
    List<NDArray> matrixGradSlices() {
        return matrixGradSlices;
    }

    /** The group's manager: arrays made for it (momentum buffers and their views) can live here. */
    NDManager manager() {
        return manager;
    }

    /** Zeroes all gradients of the group: one native call. */
    public void zeroGradients() {
        if (size > 0) {
            JniUtils.indexSet((PtNDArray) grads, (PtNDArray) zero, new long[] {0}, new long[] {size}, new long[] {1});
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
