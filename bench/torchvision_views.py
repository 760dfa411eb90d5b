#!/usr/bin/env python3
"""torchvision peer of io.siamstream.bench.AugmentBenchmark: views/s of the same augmentation policies on one thread.

Usage: torchvision_views.py DIR [--seconds S] [--warmup S] [--only POLICY/SIZE,...] [--profile]

DIR is the folder AugmentBenchmark wrote: cells.json (every cell's policy parameters, taken from the Java
ViewPolicy objects) and sources-CxHxW.u8 (the same seeded random 8-bit channel-major source images). Each view
decodes a source image (uint8 -> float / 255), then applies, in the Java policy's order,

  RandomResizedCrop(size, scale, ratio, antialias=False), RandomApply([ColorJitter(b, c, s, h)], p),
  RandomGrayscale(p), RandomApply([GaussianBlur(k, sigma)], p), RandomSolarize(0.5, p), RandomHorizontalFlip(p),
  Normalize(mean, std)

(torchvision 0.14 v1 transforms on tensors). Times --warmup s untimed then --seconds s in 5 windows; prints one
JSON line per cell with the median and best window's views/s. With --profile it times each op in isolation
(the same ops and arguments as AugmentBenchmark --profile) and prints microseconds per call.
"""
import argparse
import json
import math
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
import torchvision.transforms as T  # noqa: E402
import torchvision.transforms.functional as F  # noqa: E402

WINDOWS = 5


def policy_transform(cell):
    return T.Compose([
        T.RandomResizedCrop(cell["output"], scale=tuple(cell["crop_scale"]), ratio=tuple(cell["crop_ratio"]),
                            antialias=False),
        T.RandomApply([T.ColorJitter(cell["brightness"], cell["contrast"], cell["saturation"], cell["hue"])],
                      p=cell["jitter_p"]),
        T.RandomGrayscale(p=cell["grayscale_p"]),
        T.RandomApply([T.GaussianBlur(cell["blur_kernel"], sigma=tuple(cell["blur_sigma"]))], p=cell["blur_p"]),
        T.RandomSolarize(cell["solarize_threshold"], p=cell["solarize_p"]),
        T.RandomHorizontalFlip(p=cell["flip_p"]),
        T.Normalize(cell["mean"], cell["std"]),
    ])


def load_sources(directory, cell):
    c, s = cell["channels"], cell["source"]
    raw = np.fromfile(os.path.join(directory, cell["sources"]), dtype=np.uint8)
    if raw.size != cell["pool"] * c * s * s:
        sys.exit(f"{cell['sources']}: {raw.size} bytes are not {cell['pool']} images of {c}x{s}x{s}")
    return torch.from_numpy(raw).reshape(cell["pool"], c, s, s)


def decode(u8):
    return u8.to(torch.float32).div_(255.0)


def timed(fn, warmup, seconds):
    """Runs fn for warmup s, then seconds s in windows; returns (median, best) calls/s."""
    end = time.perf_counter() + warmup
    while time.perf_counter() < end:
        fn()
    rates = []
    window = seconds / WINDOWS
    for _ in range(WINDOWS):
        t0 = time.perf_counter()
        stop = t0 + window
        n = 0
        while True:
            fn()
            n += 1
            t = time.perf_counter()
            if t >= stop:
                break
        rates.append(n / (t - t0))
    rates.sort()
    return rates[WINDOWS // 2], rates[-1]


def run_cell(directory, cell, warmup, seconds):
    sources = load_sources(directory, cell)
    transform = policy_transform(cell)
    pool = sources.shape[0]
    state = {"n": 0, "sink": 0.0}

    def view():
        n = state["n"]
        state["n"] = n + 1
        out = transform(decode(sources[n % pool]))
        state["sink"] += float(out.reshape(-1)[out.numel() // 2])

    median, best = timed(view, warmup, seconds)
    print(json.dumps({"side": "torchvision", "policy": cell["policy"], "size": cell["size"],
                      "views_per_s": round(median, 1), "best_views_per_s": round(best, 1), "views": state["n"],
                      "blur_kernel": cell["blur_kernel"], "checksum": round(state["sink"], 3)}), flush=True)


def profile_size(directory, cell, warmup, seconds):
    """The same ops and arguments as AugmentBenchmark.profileOps."""
    sources = load_sources(directory, cell)
    c, src, out = cell["channels"], cell["source"], cell["output"]
    side = int(math.floor(src * math.sqrt(0.5) + 0.5))
    top, left = (src - side) // 2, (src - side) // 3
    decoded = decode(sources[0])
    img = F.resized_crop(decoded, top, left, side, side, [out, out], antialias=False)
    k = cell["blur_kernel"]
    mean, std = cell["mean"], cell["std"]
    simsiam = policy_transform(cell)
    pool = sources.shape[0]
    counter = [0]

    def simsiam_view():
        n = counter[0]
        counter[0] = n + 1
        return simsiam(decode(sources[n % pool]))

    ops = [
        ("decode", lambda: decode(sources[0])),
        ("resized_crop", lambda: F.resized_crop(decoded, top, left, side, side, [out, out], antialias=False)),
        ("brightness", lambda: F.adjust_brightness(img, 1.2)),
        ("contrast", lambda: F.adjust_contrast(img, 1.2)),
        ("saturation", lambda: F.adjust_saturation(img, 1.2)),
        ("hue", lambda: F.adjust_hue(img, 0.05)),
        ("grayscale", lambda: F.rgb_to_grayscale(img, num_output_channels=c)),
        (f"gaussian_blur_k{k}", lambda: F.gaussian_blur(img, [k, k], [1.0, 1.0])),
        ("solarize", lambda: F.solarize(img, 0.5)),
        ("hflip", lambda: F.hflip(img)),
        ("normalize", lambda: F.normalize(img, mean, std)),
        ("simsiam_view", simsiam_view),
    ]
    for name, fn in ops:
        median, _ = timed(fn, min(warmup, 1.0), min(seconds, 1.5))
        print(json.dumps({"side": "torchvision", "profile": True, "size": cell["size"], "op": name,
                          "us_per_call": round(1e6 / median, 3)}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=1.5)
    parser.add_argument("--only", default=None, help="comma-separated POLICY/SIZE keys")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
          f"{torch.get_num_threads()} intra-op thread(s)", file=sys.stderr)
    with open(os.path.join(args.dir, "cells.json"), encoding="utf-8") as f:
        cells = json.load(f)
    only = set(args.only.split(",")) if args.only else None
    torch.manual_seed(42)
    with torch.no_grad():
        if args.profile:
            done = set()
            for cell in cells:
                key = cell["size"]
                if key in done or (only and not any(o == key or o.endswith("/" + key) for o in only)):
                    continue
                if cell["policy"] != "simsiam":
                    continue
                done.add(key)
                profile_size(args.dir, cell, args.warmup, args.seconds)
            return
        for cell in cells:
            if only and f"{cell['policy']}/{cell['size']}" not in only:
                continue
            run_cell(args.dir, cell, args.warmup, args.seconds)


if __name__ == "__main__":
    main()
