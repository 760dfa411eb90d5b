#!/usr/bin/python3
"""kNN by several rules on the same split, for exported features and for raw pixels: so that a learned encoder is
compared with raw pixels under one classifier at a time, not one rule on each side.

Rules: the job's evaluator (k = 200, T = 0.1, cosine similarity, votes weighted by exp(sim / T); a cross-check of
io.siamstream.eval.KnnClassifier), and plain majority votes of the k nearest (ties to the lower label, as
scikit-learn's KNeighborsClassifier) by L2 distance and by cosine similarity, k = 1, 3, 5, 10, 20.

Usage: knn_rules.py FASHION_MNIST_DIR [NAME=TRAIN_NPY,TEST_NPY ...]
  Raw pixels (scaled to [0, 1], as the Fashion-MNIST benchmark) are always scored. Each NAME= scores features exported
  by `model embed` (float32 N x dim, labels in the .labels.npy beside each file). One JSON line per name and rule."""
import json, sys, numpy as np

from idx_format import read_idx

KS = (1, 3, 5, 10, 20)
EVALUATOR_K, EVALUATOR_T = 200, 0.1


def features(path):
    x = np.load(path).astype(np.float32)
    y = np.load(path[:-len(".npy")] + ".labels.npy").astype(np.int64)
    return x, y


def neighbours(train, test, cosine, k):
    """Indices and similarities (cosine) or negative squared distances (L2) of each query's k nearest, in chunks."""
    if cosine:
        train = train / np.maximum(np.linalg.norm(train, axis=1, keepdims=True), 1e-12)
        test = test / np.maximum(np.linalg.norm(test, axis=1, keepdims=True), 1e-12)
    else:
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


def vote(idx, train_y, classes, weights=None):
    """Each query's class with the most votes of its neighbours (one each, or their weights); ties to the lower label."""
    votes = np.zeros((len(idx), classes))
    for j in range(idx.shape[1]):
        np.add.at(votes, (np.arange(len(idx)), train_y[idx[:, j]]), 1 if weights is None else weights[:, j])
    return votes.argmax(1)


def score(name, train_x, train_y, test_x, test_y):
    classes = int(max(train_y.max(), test_y.max())) + 1

    def report(rule, predicted):
        print(json.dumps({"name": name, "rule": rule, "top1": round(float((predicted == test_y).mean()), 4)}),
              flush=True)

    # cosine: the evaluator's 200 nearest, whose first max(KS) are the majority rules' nearest too
    cosine_idx, cosine_sim = neighbours(train_x, test_x, True, EVALUATOR_K)
    report("evaluator: k=200, T=0.1, cosine, weighted",
           vote(cosine_idx, train_y, classes, np.exp(cosine_sim / EVALUATOR_T)))
    l2_idx, _ = neighbours(train_x, test_x, False, max(KS))
    for metric, idx in (("L2", l2_idx), ("cosine", cosine_idx)):
        for k in KS:
            report(f"majority, k={k}, {metric}", vote(idx[:, :k], train_y, classes))


def main():
    data = sys.argv[1]
    raw = {split: (read_idx(f"{data}/{split}-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255,
                   read_idx(f"{data}/{split}-labels-idx1-ubyte.gz").astype(np.int64)) for split in ("train", "t10k")}
    score("raw pixels", *raw["train"], *raw["t10k"])
    for arg in sys.argv[2:]:
        name, paths = arg.split("=", 1)
        train, test = paths.split(",")
        score(name, *features(train), *features(test))


if __name__ == "__main__":
    main()
