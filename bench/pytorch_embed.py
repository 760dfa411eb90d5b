#!/usr/bin/python3
"""Plain-PyTorch peer of siamstream's embedding path (io.siamstream.eval.ImageEmbedder): inference on one core.

Loads a committed model version (encoder.safetensors, parsed by tools/safetensors_embed.py without the safetensors
package) into the module of bench/pytorch_step.py with load_state_dict(strict=True), switches it to eval mode and
embeds 8-bit images under torch.no_grad(), timing what the Java side times: pixels to float, (x / 255 - mean) / std
per channel, the forward pass, the features back as a NumPy array.

It is driven over stdin by io.siamstream.bench.EmbedBenchmark, so that Java and PyTorch rounds alternate in one run
and share whatever else the machine is doing. Commands, one per line, each answered by one JSON line on stdout:
  embed K      time K batches (cycling over the pool from where the last round stopped);
               -> {"times_ms": [...], "cpu_s": CPU seconds this process used in the round}
  parts K      time normalisation and forward pass apart over K batches -> {"norm_ms": ..., "forward_ms": ...}
  dump PATH    write the features of pool batch 0 to PATH (.npy, float32) -> {"ok": true}
  quit

Usage: pytorch_embed.py MODEL_DIR IMAGES.u8 N BATCH [THREADS]
  IMAGES.u8: N x C x H x W bytes (the ImageRecord pixels, channel-major), C, H, W from model.json
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import safetensors_embed  # noqa: E402  (reads the artifact by the format's rules; imports bench/pytorch_step.py)

pytorch_step = safetensors_embed.pytorch_step


def load(model_dir):
    with open(os.path.join(model_dir, "model.json")) as f:
        info = json.load(f)
    weights = os.path.join(model_dir, info["weights"]["file"])
    if safetensors_embed.sha256(weights) != info["weights"]["sha256"]:
        sys.exit(f"{weights}: sha256 differs from model.json")
    enc = info["encoder"]
    if enc["kind"] not in ("convnet", "resnet18_cifar"):
        sys.exit(f"encoder {enc['kind']}: no PyTorch peer in bench/pytorch_step.py")
    builder = pytorch_step.conv_net if enc["kind"] == "convnet" else pytorch_step.resnet18_cifar
    encoder, _ = builder(enc["channels"], enc["width"])
    state, _ = safetensors_embed.read_safetensors(weights)
    encoder.load_state_dict(state, strict=True)
    encoder.eval()
    return encoder, info


def main(argv):
    if len(argv) < 5:
        sys.exit(__doc__)
    model_dir, images_path, n, batch = argv[1], argv[2], int(argv[3]), int(argv[4])
    threads = int(argv[5]) if len(argv) > 5 else 1
    torch.set_num_threads(threads)
    encoder, info = load(model_dir)
    c, h, w = info["input"]["channels"], info["input"]["height"], info["input"]["width"]
    pixels = np.fromfile(images_path, dtype=np.uint8)
    if pixels.size != n * c * h * w:
        sys.exit(f"{images_path}: {pixels.size} bytes are not {n} images of {c}x{h}x{w}")
    pool = [torch.from_numpy(b.copy()) for b in np.split(pixels.reshape(n, c, h, w), n // batch)]
    # float32 constants, as the Java side computes ((p & 0xff) * (1f / 255f) - mean) / std in float
    scale = torch.tensor(np.float32(1.0) / np.float32(255.0), dtype=torch.float32)
    mean = torch.tensor(np.array(info["input"]["mean"], dtype=np.float32)).reshape(1, c, 1, 1)
    std = torch.tensor(np.array(info["input"]["std"], dtype=np.float32)).reshape(1, c, 1, 1)

    def embed(u8):
        with torch.no_grad():
            x = (u8.to(torch.float32) * scale - mean) / std
            return encoder(x).numpy()

    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "interop_threads": torch.get_num_interop_threads(), "batches": len(pool)}), flush=True)
    cursor = 0
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "embed":
            times = []
            cpu0 = time.process_time()
            for _ in range(int(cmd[1])):
                t0 = time.perf_counter()
                embed(pool[cursor % len(pool)])
                times.append((time.perf_counter() - t0) * 1e3)
                cursor += 1
            print(json.dumps({"times_ms": times, "cpu_s": time.process_time() - cpu0}), flush=True)
        elif cmd[0] == "parts":
            # where a batch's time goes: normalisation alone, the forward pass alone (median ms over K batches)
            norm, forward = [], []
            for i in range(int(cmd[1])):
                u8 = pool[i % len(pool)]
                t0 = time.perf_counter()
                with torch.no_grad():
                    x = (u8.to(torch.float32) * scale - mean) / std
                t1 = time.perf_counter()
                with torch.no_grad():
                    encoder(x).numpy()
                t2 = time.perf_counter()
                norm.append((t1 - t0) * 1e3)
                forward.append((t2 - t1) * 1e3)
            print(json.dumps({"norm_ms": statistics.median(norm), "forward_ms": statistics.median(forward)}), flush=True)
        elif cmd[0] == "dump":
            np.save(cmd[1], embed(pool[0]).astype("<f4"))
            print(json.dumps({"ok": True}), flush=True)
        elif cmd[0] == "quit":
            break
        else:
            print(json.dumps({"error": "unknown command " + cmd[0]}), flush=True)


if __name__ == "__main__":
    main(sys.argv)
