#!/usr/bin/env python3
"""Rebuilds the bundled Fashion-MNIST sample from Debian's dataset-fashion-mnist.

The sample is class-balanced and deterministic: the first N images of every class, in file order,
from the train split (TRAIN_PER_CLASS each) and the test split (TEST_PER_CLASS each), written back
as gzipped IDX files so the same reader serves the sample and the full set.
Usage: tools/make_fashion_sample.py [SOURCE_DIR] [TARGET_DIR]
"""
import gzip, os, struct, sys

SRC = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
DST = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    os.path.dirname(__file__), "..", "connectors", "src", "main", "resources",
    "io", "siamstream", "connectors", "fashion-mnist-sample")
TRAIN_PER_CLASS, TEST_PER_CLASS = 400, 100


def read(prefix):
    with gzip.open(os.path.join(SRC, prefix + "-images-idx3-ubyte.gz")) as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051
        images = f.read()
    with gzip.open(os.path.join(SRC, prefix + "-labels-idx1-ubyte.gz")) as f:
        magic, n2 = struct.unpack(">II", f.read(8))
        assert magic == 2049 and n2 == n
        labels = f.read()
    return images, labels, rows, cols


def write(prefix, per_class):
    images, labels, rows, cols = read(prefix)
    size = rows * cols
    taken, counts = [], [0] * 10
    for i, label in enumerate(labels):
        if counts[label] < per_class:
            counts[label] += 1
            taken.append(i)
    os.makedirs(DST, exist_ok=True)
    # mtime=0 keeps the files byte-identical between rebuilds
    with open(os.path.join(DST, prefix + "-images-idx3-ubyte.gz"), "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(struct.pack(">IIII", 2051, len(taken), rows, cols))
        for i in taken:
            f.write(images[i * size:(i + 1) * size])
    with open(os.path.join(DST, prefix + "-labels-idx1-ubyte.gz"), "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(struct.pack(">II", 2049, len(taken)))
        f.write(bytes(labels[i] for i in taken))
    print(prefix, len(taken), "images")


write("train", TRAIN_PER_CLASS)
write("t10k", TEST_PER_CLASS)
