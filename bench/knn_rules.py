#!/usr/bin/python3
"""kNN by several rules on the same split, for exported features and for raw pixels: so that a learned encoder is
compared with raw pixels under one classifier at a time, not one rule on each side.

Rules: the job's evaluator (k = 200, T = 0.1, cosine similarity, votes weighted by exp(sim / T); a cross-check of
io.siamstream.eval.KnnClassifier), and plain majority votes of the k nearest (ties to the lower label, as
scikit-learn's KNeighborsClassifier) by L2 distance and by cosine similarity, k = 1, 3, 5, 10, 20.

Usage: knn_rules.py FASHION_MNIST_DIR [NAME=TRAIN_NPY,TEST_NPY ...]
  Raw pixels (scaled to [0, 1], as the Fashion-MNIST benchmark) are always scored. Each NAME= scores features exported
  by `model embed` (float32 N x dim, labels in the .labels.npy beside each file). One JSON line per name and rule."""
import gzip, json, sys, numpy as np

KS = (1, 3, 5, 10, 20)


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def features(path):
    x = np.load(path).astype(np.float32)
    y = np.load(path[:-len(".npy")] + ".labels.npy").astype(np.int64)
    return x, y


def neighbours(train, test, cosine, k):
    """Indices and similarities (cosine) or negative squared distances (L2) of each query's k nearest, in chunks."""
    if cosine:
        train = train / np.maximum(np.linalg.norm(train, axis=1, keepdims=True), 1e-12)
        test = test / np.maximum(np.linalg.norm(test, axis=1, keepdims=True), 1e-12)
    train_sq = (train * train).sum(1)
    idx_out = np.empty((len(test), k), np.int64)
    sim_out = np.empty((len(test), k), np.float32)
    for start in range(0, len(test), 500):
        q = test[start:start + 500]
        s = q @ train.T
        if not cosine:
            s = 2 * s - train_sq[None, :]  # -|q - t|^2 + |q|^2: the same order as -distance
        part = np.argpartition(-s, k - 1, axis=1)[:, :k]
        ps = np.take_along_axis(s, part, 1)
        order = np.argsort(-ps, axis=1, kind="stable")
        idx_out[start:start + 500] = np.take_along_axis(part, order, 1)
        sim_out[start:start + 500] = np.take_along_axis(ps, order, 1)
    return idx_out, sim_out


def majority(idx, train_y, k, classes):
    votes = np.zeros((len(idx), classes), np.int64)
    for j in range(k):
        np.add.at(votes, (np.arange(len(idx)), train_y[idx[:, j]]), 1)
    return votes.argmax(1)


def score(name, train_x, train_y, test_x, test_y):
    classes = int(max(train_y.max(), test_y.max())) + 1
    idx, sim = neighbours(train_x, test_x, True, 200)
    weights = np.exp(sim / 0.1)
    votes = np.zeros((len(test_x), classes))
    for j in range(200):
        np.add.at(votes, (np.arange(len(test_x)), train_y[idx[:, j]]), weights[:, j])
    print(json.dumps({"name": name, "rule": "evaluator: k=200, T=0.1, cosine, weighted",
                      "top1": round(float((votes.argmax(1) == test_y).mean()), 4)}), flush=True)
    for cosine in (False, True):
        idx, _ = neighbours(train_x, test_x, cosine, max(KS))
        for k in KS:
            acc = float((majority(idx, train_y, k, classes) == test_y).mean())
            print(json.dumps({"name": name, "rule": f"majority, k={k}, {'cosine' if cosine else 'L2'}",
                              "top1": round(acc, 4)}), flush=True)


def main():
    data = sys.argv[1]
    raw = {split: (idx(f"{data}/{split}-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255,
                   idx(f"{data}/{split}-labels-idx1-ubyte.gz").astype(np.int64)) for split in ("train", "t10k")}
    score("raw pixels", *raw["train"], *raw["t10k"])
    for arg in sys.argv[2:]:
        name, paths = arg.split("=", 1)
        train, test = paths.split(",")
        score(name, *features(train), *features(test))


if __name__ == "__main__":
    main()
