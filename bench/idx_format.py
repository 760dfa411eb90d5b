"""IDX files (the Fashion-MNIST format), gzip-compressed, as numpy arrays: the Python side's counterpart of
io.siamstream.connectors.idx.IdxFormat, shared by the bench scripts that read the dataset themselves."""
import gzip

import numpy as np


def read_idx(path):
    """The uint8 array of one .gz IDX file, in the shape its header gives."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)
