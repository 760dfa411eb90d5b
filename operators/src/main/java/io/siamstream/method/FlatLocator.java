package io.siamstream.method;

import ai.djl.ndarray.NDArray;

/**
 * Where a parameter's array lies when it is a view of a flat buffer (see {@code io.siamstream.train.FlatParams}), so
 * that an update over many parameters can run over contiguous runs of the flat buffers instead of each array.
 */
@FunctionalInterface
public interface FlatLocator {

    /** A view's place: elements [offset, offset + size) of {@code flat}. */
    record Location(NDArray flat, long offset, long size) {
        public long end() {
            return offset + size;
        }
    }

    /** The location of {@code array}, or null when it is not a view of a flat buffer. */
    Location locate(NDArray array);
}
