#!/usr/bin/python3
"""Plain-PyTorch peer of siamstream's DJL learner: times one full SimSiam training step.

The model mirrors operators/src/main/java/io/siamstream/model (Encoders, ResidualBlock, Heads, Layers) and the step
mirrors train/Learner.step with method/SimSiam and train/SgdMomentum:
  * each view goes through encoder and projector separately (two forward passes, not one concatenated batch);
  * BatchNorm momentum 0.1 (DJL 0.9), eps 1e-5; convolutions without bias;
  * projector: Linear(no bias)-BN-ReLU x 2, Linear(no bias), BN(affine=False);
  * predictor: Linear(no bias)-BN-ReLU, Linear(with bias);
  * loss: D(p1, sg(z2)) / 2 + D(p2, sg(z1)) / 2, D(p, z) = -mean_i <normalize(p_i), normalize(z_i)>;
  * SGD momentum 0.9, weight decay 5e-4, dampening 0, lr = 0.03 x batch / 256 (step 0 of the cosine schedule);
    gradients are zeroed in place after the update (DJL's zeroGrad), not set to None.

With CHANNELS_LAST=1 the model and the inputs are laid out channels last (torch.channels_last), as siamstream's
backbones run; the default is the plain script's contiguous NCHW.

Prints the trainable parameter count, then one JSON line:
  {"side": "pytorch", "model": ..., "batch": ..., "median_ms": ..., "pairs_per_s": ..., "cpu_ms": ..., "params": ...}
cpu_ms is the process CPU time (all threads) per timed step. With PROFILE_TRACE set, PROFILE_STEPS (default 2) more
steps run under the autograd profiler and its Chrome trace is written there (bench/step_profile.py reads it).

Usage: pytorch_step.py MODEL BATCH [WARMUP [STEPS [THREADS]]]
  MODEL: convnet | resnet18-half | resnet18
  STEPS: a number, or "serve": run the warm-up, print a ready line, then serve turns for bench/step_pairs.py (each
         line N on stdin runs N timed steps and answers one JSON line with their wall times and the process CPU time
         they took), as StepBenchmark's serve mode does
"""
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# model name -> (encoder kind, in channels, image size, width multiplier, heads (projector hidden, out, predictor hidden))
MODELS = {
    "convnet": ("convnet", 1, 28, 1.0, (256, 256, 64)),
    "resnet18-half": ("resnet18", 3, 32, 0.5, (2048, 2048, 512)),
    "resnet18": ("resnet18", 3, 32, 1.0, (2048, 2048, 512)),
}


def scaled(channels, width):
    # Java's Math.max(1, (int) Math.round(channels * width)): round half up, unlike Python's round().
    return max(1, int(math.floor(channels * width + 0.5)))


def conv(cin, cout, kernel, stride, padding):
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)


def bn2d(c):
    return nn.BatchNorm2d(c, eps=1e-5, momentum=0.1)


def bn1d(c, affine=True):
    return nn.BatchNorm1d(c, eps=1e-5, momentum=0.1, affine=affine)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = conv(cin, cout, 3, stride, 1)
        self.bn1 = bn2d(cout)
        self.conv2 = conv(cout, cout, 3, 1, 1)
        self.bnLast = bn2d(cout)
        nn.init.zeros_(self.bnLast.weight)  # as ParameterInit: last BN scale 0 in each residual branch
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(conv(cin, cout, 1, stride, 0), bn2d(cout))

    def forward(self, x):
        branch = self.bnLast(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        identity = x if self.shortcut is None else self.shortcut(x)
        return F.relu(branch + identity)


def conv_net(cin, width, pool_grid=1):
    widths, strides = [32, 64, 128, 256], [1, 2, 2, 2]
    layers, c = [], cin
    for w, s in zip(widths, strides):
        out = scaled(w, width)
        layers += [conv(c, out, 3, s, 1), bn2d(out), nn.ReLU()]
        c = out
    layers += [nn.AdaptiveAvgPool2d(pool_grid), nn.Flatten()]
    return nn.Sequential(*layers), c * pool_grid * pool_grid


def resnet18_cifar(cin, width, pool_grid=1):
    base = scaled(64, width)
    layers = [conv(cin, base, 3, 1, 1), bn2d(base), nn.ReLU()]
    c = base
    for stage in range(4):
        out = scaled(64 << stage, width)
        blocks = []
        for b in range(2):
            stride = 2 if (stage > 0 and b == 0) else 1
            blocks.append(BasicBlock(c, out, stride))
            c = out
        layers.append(nn.Sequential(*blocks))
    layers += [nn.AdaptiveAvgPool2d(pool_grid), nn.Flatten()]
    return nn.Sequential(*layers), c * pool_grid * pool_grid


def projector(feat, hidden, out):
    return nn.Sequential(
        nn.Linear(feat, hidden, bias=False), bn1d(hidden), nn.ReLU(),
        nn.Linear(hidden, hidden, bias=False), bn1d(hidden), nn.ReLU(),
        nn.Linear(hidden, out, bias=False), bn1d(out, affine=False))


def predictor(out, hidden):
    return nn.Sequential(nn.Linear(out, hidden, bias=False), bn1d(hidden), nn.ReLU(), nn.Linear(hidden, out, bias=True))


class SimSiamNet(nn.Module):
    def __init__(self, kind, cin, width, heads, pool_grid=1):
        super().__init__()
        builder = conv_net if kind == "convnet" else resnet18_cifar
        self.encoder, feat = builder(cin, width, pool_grid)
        self.projector = projector(feat, heads[0], heads[1])
        self.predictor = predictor(heads[1], heads[2])
        for m in self.modules():
            if isinstance(m, nn.Conv2d):  # torchvision's ResNet init, as ParameterInit
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


def neg_cos(p, z):
    return -(F.normalize(p, dim=1, eps=1e-12) * F.normalize(z, dim=1, eps=1e-12)).sum(dim=1).mean()


def main(argv):
    if len(argv) < 3 or argv[1] not in MODELS:
        sys.exit("usage: pytorch_step.py {" + "|".join(MODELS) + "} BATCH [WARMUP [STEPS [THREADS]]]")
    model_name, batch = argv[1], int(argv[2])
    warmup = int(argv[3]) if len(argv) > 3 else 3
    serve = len(argv) > 4 and argv[4] == "serve"
    steps = 4 if serve else int(argv[4]) if len(argv) > 4 else 20
    threads = int(argv[5]) if len(argv) > 5 else (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    torch.manual_seed(42)

    kind, cin, size, width, heads = MODELS[model_name]
    net = SimSiamNet(kind, cin, width, heads).train()
    params = [p for p in net.parameters() if p.requires_grad]
    n_params = sum(p.numel() for p in params)
    print(f"pytorch trainable parameters: {n_params}", flush=True)

    lr = 0.03 * batch / 256
    opt = torch.optim.SGD(params, lr=lr, momentum=0.9, dampening=0, weight_decay=5e-4, nesterov=False)

    # Random inputs created before timing; a few distinct batches, cycled.
    pool = [(torch.randn(batch, cin, size, size), torch.randn(batch, cin, size, size))
            for _ in range(min(warmup + steps, 4))]
    if os.environ.get("CHANNELS_LAST") == "1":
        net = net.to(memory_format=torch.channels_last)
        pool = [(a.contiguous(memory_format=torch.channels_last), b.contiguous(memory_format=torch.channels_last))
                for a, b in pool]

    def step(x1, x2):
        z1 = net.projector(net.encoder(x1))
        z2 = net.projector(net.encoder(x2))
        p1 = net.predictor(z1)
        p2 = net.predictor(z2)
        loss = 0.5 * (neg_cos(p1, z2.detach()) + neg_cos(p2, z1.detach()))
        loss_value = loss.item()  # the learner reads the loss (finite check) before backward
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=False)
        return loss_value

    if serve:
        serve_turns(step, pool, warmup, model_name, batch, n_params)
        return

    times = []
    loss = float("nan")
    cpu0 = 0.0
    for i in range(warmup + steps):
        x1, x2 = pool[i % len(pool)]
        if i == warmup:
            cpu0 = time.process_time()
        t0 = time.perf_counter()
        loss = step(x1, x2)
        dt = (time.perf_counter() - t0) * 1000
        if i >= warmup:
            times.append(dt)
    cpu_ms = (time.process_time() - cpu0) * 1000 / steps  # process CPU time (all threads) per timed step
    trace = os.environ.get("PROFILE_TRACE")
    if trace:
        # the autograd profiler over PROFILE_STEPS further steps, after the timed ones, as StepBenchmark does
        with torch.autograd.profiler.profile() as prof:
            for i in range(int(os.environ.get("PROFILE_STEPS", "2"))):
                step(*pool[i % len(pool)])
        prof.export_chrome_trace(trace)
    median = statistics.median(times)
    print(json.dumps({
        "side": "pytorch", "model": model_name, "batch": batch, "warmup": warmup, "steps": steps,
        "median_ms": round(median, 3), "min_ms": round(min(times), 3), "max_ms": round(max(times), 3),
        "pairs_per_s": round(batch * 1000 / median, 2), "cpu_ms": round(cpu_ms, 3), "params": n_params,
        "threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads(),
        "torch": torch.__version__, "channels_last": os.environ.get("CHANNELS_LAST") == "1",
        "last_loss": round(loss, 6)}), flush=True)


def serve_turns(step, pool, warmup, model_name, batch, n_params):
    """The turns of a paired run: warm-up, a ready line, then one answer line per request line on stdin."""
    for i in range(warmup):
        step(*pool[i % len(pool)])
    i = warmup
    print(json.dumps({"side": "pytorch", "ready": True, "model": model_name, "batch": batch, "params": n_params,
                      "threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads(),
                      "torch": torch.__version__, "channels_last": os.environ.get("CHANNELS_LAST") == "1",
                      "pid": os.getpid()}), flush=True)
    for line in sys.stdin:
        ms, loss = [], float("nan")
        cpu0 = time.process_time()
        for _ in range(int(line)):
            t0 = time.perf_counter()
            loss = step(*pool[i % len(pool)])
            ms.append(round((time.perf_counter() - t0) * 1000, 3))
            i += 1
        print(json.dumps({"side": "pytorch", "ms": ms, "cpu_ms": round((time.process_time() - cpu0) * 1000, 3),
                          "loss": round(loss, 6)}), flush=True)


if __name__ == "__main__":
    main(sys.argv)
