#!/usr/bin/env python3
"""Applies torchvision 0.14 functional ops to one float image, for TorchvisionParityTest.

Usage: torchvision_ops.py IMAGE C H W OPS_JSON OUT_DIR

IMAGE is a raw little-endian float32 file holding a C x H x W image (channel-major, values in [0, 1]).
OPS_JSON is a file with a JSON list of ops; each is an object with a unique "name", an "op" and its arguments:

  {"name": "...", "op": "resized_crop", "top": T, "left": L, "height": H, "width": W, "out_h": OH, "out_w": OW}
  {"name": "...", "op": "hflip"}
  {"name": "...", "op": "brightness" | "contrast" | "saturation" | "hue", "factor": F}
  {"name": "...", "op": "grayscale"}                      (rgb_to_grayscale, as many output channels as input)
  {"name": "...", "op": "gaussian_blur", "kernel_size": K, "sigma": S}
  {"name": "...", "op": "solarize", "threshold": T}
  {"name": "...", "op": "normalize", "mean": [..], "std": [..]}

Each op is applied to the original image; its output goes to OUT_DIR/<name>.f32 (raw little-endian float32,
C x H x W). Prints one line per op: "<name> <C> <H> <W>".
"""
import json
import sys

import numpy as np
import torch
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode


def apply(img, spec):
    op = spec["op"]
    if op == "resized_crop":
        return F.resized_crop(img, spec["top"], spec["left"], spec["height"], spec["width"],
                              [spec["out_h"], spec["out_w"]], interpolation=InterpolationMode.BILINEAR,
                              antialias=False)
    if op == "hflip":
        return F.hflip(img)
    if op == "brightness":
        return F.adjust_brightness(img, spec["factor"])
    if op == "contrast":
        return F.adjust_contrast(img, spec["factor"])
    if op == "saturation":
        return F.adjust_saturation(img, spec["factor"])
    if op == "hue":
        return F.adjust_hue(img, spec["factor"])
    if op == "grayscale":
        return F.rgb_to_grayscale(img, num_output_channels=3 if img.shape[0] == 3 else 1)
    if op == "gaussian_blur":
        k = spec["kernel_size"]
        s = spec["sigma"]
        return F.gaussian_blur(img, [k, k], [s, s])
    if op == "solarize":
        return F.solarize(img, spec["threshold"])
    if op == "normalize":
        return F.normalize(img, spec["mean"], spec["std"])
    raise ValueError(f"unknown op '{op}'")


def main(argv):
    if len(argv) != 7:
        sys.exit(__doc__)
    image_path, c, h, w, ops_path, out_dir = argv[1], int(argv[2]), int(argv[3]), int(argv[4]), argv[5], argv[6]
    torch.set_num_threads(1)
    data = np.fromfile(image_path, dtype="<f4")
    if data.size != c * h * w:
        sys.exit(f"{image_path}: {data.size} values are not a {c}x{h}x{w} image")
    img = torch.from_numpy(data.astype(np.float32)).reshape(c, h, w)
    with open(ops_path, encoding="utf-8") as f:
        ops = json.load(f)
    for spec in ops:
        out = apply(img, spec).contiguous()
        if out.dtype != torch.float32:
            raise TypeError(f"{spec['name']}: output dtype {out.dtype}")
        out.numpy().astype("<f4").tofile(f"{out_dir}/{spec['name']}.f32")
        print(spec["name"], *out.shape)


if __name__ == "__main__":
    main(sys.argv)
