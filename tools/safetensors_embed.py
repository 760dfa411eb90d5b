#!/usr/bin/python3
"""Loads a siamstream model artifact into the plain-PyTorch model of the same architecture and embeds images.

The artifact is a version directory <models>/<version>/ with encoder.safetensors (PyTorch state_dict names) and
model.json. The safetensors file is parsed here by its rules (Debian has no safetensors package): an 8-byte
little-endian header length n, n bytes of JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}},
then the data; offsets are relative to the end of the header. The encoder is the one of bench/pytorch_step.py
(conv_net / resnet18_cifar), loaded with load_state_dict(strict=True), run in eval mode on the CPU.

Usage: safetensors_embed.py MODEL_DIR IMAGES.npy OUT.npy [--heads]
  IMAGES.npy: N x C x H x W float32, normalised as the job does ((x/255 - mean) / std)
  OUT.npy:    N x feature_dim float32
  --heads:    also load heads.safetensors into SimSiamNet's projector and predictor (strict) and check it
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import pytorch_step  # noqa: E402  (the PyTorch peer of siamstream's DJL models)

DTYPES = {"F32": np.float32, "I64": np.int64, "F64": np.float64, "I32": np.int32}


def read_safetensors(path):
    """Returns ({name: torch.Tensor}, metadata), checking the layout: contiguous offsets, padding, sizes."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    metadata = header.pop("__metadata__", {})
    tensors, end = {}, 0
    for name, t in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, stop = t["data_offsets"]
        if begin != end:
            raise ValueError(f"{path}: {name} starts at {begin}, expected {end} (gap or overlap)")
        dtype = np.dtype(DTYPES[t["dtype"]]).newbyteorder("<")
        count = int(np.prod(t["shape"])) if t["shape"] else 1
        if stop - begin != count * dtype.itemsize:
            raise ValueError(f"{path}: {name} has {stop - begin} bytes for {count} x {t['dtype']}")
        array = np.frombuffer(data, dtype=dtype, count=count, offset=base + begin).reshape(t["shape"])
        tensors[name] = torch.from_numpy(array.astype(dtype.newbyteorder("="), copy=True))
        end = stop
    if base + end != len(data):
        raise ValueError(f"{path}: tensors cover {end} of {len(data) - base} data bytes")
    return tensors, metadata


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    model_dir, images_path, out_path = argv[1], argv[2], argv[3]
    torch.set_num_threads(1)
    with open(os.path.join(model_dir, "model.json")) as f:
        info = json.load(f)
    weights = os.path.join(model_dir, info["weights"]["file"])
    if sha256(weights) != info["weights"]["sha256"]:
        sys.exit(f"{weights}: sha256 differs from model.json")
    enc = info["encoder"]
    kind = "convnet" if enc["kind"] == "convnet" else "resnet18"
    if enc["kind"] not in ("convnet", "resnet18_cifar"):
        sys.exit(f"encoder {enc['kind']}: no PyTorch peer in bench/pytorch_step.py")
    builder = pytorch_step.conv_net if kind == "convnet" else pytorch_step.resnet18_cifar
    encoder, feat = builder(enc["channels"], enc["width"], enc.get("pool_grid", 1))
    state, metadata = read_safetensors(weights)
    encoder.load_state_dict(state, strict=True)
    if "--heads" in argv:
        heads, _ = read_safetensors(os.path.join(model_dir, info["heads"]["file"]))
        proj_out = heads["projector.6.weight"].shape[0]
        net = pytorch_step.SimSiamNet(kind, enc["channels"], enc["width"],
                                      (heads["projector.0.weight"].shape[0], proj_out, heads["predictor.0.weight"].shape[0]),
                                      enc.get("pool_grid", 1))
        full = {"encoder." + k: v for k, v in state.items()}
        full.update(heads)
        net.load_state_dict(full, strict=True)
        print("heads: load_state_dict(strict=True) ok,", len(heads), "tensors")
    encoder.eval()
    images = torch.from_numpy(np.load(images_path).astype(np.float32))
    with torch.no_grad():
        features = encoder(images).numpy().astype("<f4")
    if features.shape[1] != feat or feat != enc["feature_dim"]:
        sys.exit(f"feature dim {features.shape[1]} != model.json's {enc['feature_dim']}")
    np.save(out_path, features)
    print(json.dumps({"tensors": len(state), "metadata": metadata, "images": int(images.shape[0]),
                      "feature_dim": int(features.shape[1]), "torch": torch.__version__}))


if __name__ == "__main__":
    main(sys.argv)
