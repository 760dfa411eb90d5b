#!/usr/bin/python3
"""A plain PyTorch SimSiam script on Fashion-MNIST: the peer of the streaming job in bench/quality-race.sh.

It is what someone would write instead of running siamstream, with everything that decides accuracy identical to
the job's SimSiam run:
  * the model of bench/pytorch_step.py (the ConvNet, the small heads and the initialisation of siamstream's model
    package);
  * the augmentation policy ViewPolicies.fashionMnist() as torchvision 0.14 transforms, in the Java policy's order:
    RandomResizedCrop(28, scale (0.2, 1), ratio (3/4, 4/3)), ColorJitter(0.4, 0.4, 0.4, 0.1) with p 0.8,
    RandomGrayscale(0.2), HorizontalFlip(0.5), Normalize(0.2860, 0.3530) (the parity test of
    bench/torchvision_views.py covers these transforms);
  * SGD momentum 0.9, weight decay 5e-4, lr = BASE_LR x batch / 256 on a cosine schedule over --schedule-steps
    (LrSchedule's formula), the predictor at the peak rate throughout (SimSiam's fixed predictor lr, as the job);
  * one pass over a fresh random permutation of the train split per epoch, batches of --batch pairs (the last,
    incomplete batch dropped), both views of an image in the same step.
Data loading is a torch DataLoader with --workers worker processes (one thread each), as a plain script would do.

It trains until --budget-s seconds have passed since the script started (reading the data counts, as the job's
start counts on its side), then embeds the train and test splits with the encoder in eval mode (the features that
siamstream's `model embed` writes for a job's artifact) into OUT/plain-train.npy and OUT/plain-test.npy (float32,
N x 256) with .labels.npy beside them (int64). Prints a progress JSON line every 50 steps and a summary line.

Usage: plain_simsiam.py --data DIR --out DIR --budget-s S [--batch 128] [--base-lr 0.5] [--schedule-steps N]
                        [--threads 1] [--workers 1] [--seed 42]
"""
import argparse
import json
import math
import os
import sys
import time

START = time.time()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision.transforms as T  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idx_format import read_idx  # noqa: E402
from pytorch_step import MODELS, SimSiamNet, neg_cos  # noqa: E402

MEAN, STD = 0.2860, 0.3530


def view_transform():
    return T.Compose([
        T.RandomResizedCrop(28, scale=(0.2, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), antialias=False),
        T.RandomApply([T.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
        T.RandomGrayscale(p=0.2),
        T.RandomHorizontalFlip(p=0.5),
        T.Normalize([MEAN], [STD]),
    ])


class TwoViews(torch.utils.data.Dataset):
    def __init__(self, images):
        self.images = torch.from_numpy(images.copy())
        self.transform = view_transform()

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        x = self.images[i].unsqueeze(0).to(torch.float32).div_(255.0)
        return self.transform(x), self.transform(x)


def one_thread(_worker):
    torch.set_num_threads(1)


def embed(encoder, images, batch=512):
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = torch.from_numpy(images[i:i + batch].astype(np.float32) / 255.0).unsqueeze(1)
            out.append(encoder((x - MEAN) / STD))
    return torch.cat(out).numpy().astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget-s", type=float, required=True)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--base-lr", type=float, default=0.5)
    ap.add_argument("--schedule-steps", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)

    train = read_idx(os.path.join(a.data, "train-images-idx3-ubyte.gz"))
    train_labels = read_idx(os.path.join(a.data, "train-labels-idx1-ubyte.gz"))
    test = read_idx(os.path.join(a.data, "t10k-images-idx3-ubyte.gz"))
    test_labels = read_idx(os.path.join(a.data, "t10k-labels-idx1-ubyte.gz"))

    kind, cin, _size, width, heads = MODELS["convnet"]
    net = SimSiamNet(kind, cin, width, heads).train()
    predictor = set(id(p) for p in net.predictor.parameters())
    scheduled = [p for p in net.parameters() if id(p) not in predictor]
    peak = a.base_lr * a.batch / 256
    opt = torch.optim.SGD([{"params": scheduled}, {"params": list(net.predictor.parameters())}], lr=peak,
                          momentum=0.9, dampening=0, weight_decay=5e-4, nesterov=False)

    loader = torch.utils.data.DataLoader(TwoViews(train), batch_size=a.batch, shuffle=True, drop_last=True,
                                         num_workers=a.workers, worker_init_fn=one_thread,
                                         persistent_workers=a.workers > 0,
                                         generator=torch.Generator().manual_seed(a.seed))
    step, loss_value, epoch = 0, float("nan"), 0
    train_start = time.time()
    done = False
    while not done:
        for x1, x2 in loader:
            if time.time() - START >= a.budget_s:
                done = True
                break
            lr = peak * 0.5 * (1 + math.cos(math.pi * min(step, a.schedule_steps) / a.schedule_steps))
            opt.param_groups[0]["lr"] = lr
            z1 = net.projector(net.encoder(x1))
            z2 = net.projector(net.encoder(x2))
            p1, p2 = net.predictor(z1), net.predictor(z2)
            loss = 0.5 * (neg_cos(p1, z2.detach()) + neg_cos(p2, z1.detach()))
            loss_value = loss.item()
            opt.zero_grad(set_to_none=False)
            loss.backward()
            opt.step()
            step += 1
            if step % 50 == 0:
                elapsed = time.time() - START
                print(json.dumps({"side": "plain", "step": step, "epoch": epoch, "seconds": round(elapsed, 1),
                                  "pairs_per_s": round(step * a.batch / (time.time() - train_start), 1),
                                  "loss": round(loss_value, 4), "lr": round(lr, 5)}), flush=True)
        epoch += 1
    trained_s = time.time() - START

    net.eval()
    for name, images, labels in (("train", train, train_labels), ("test", test, test_labels)):
        np.save(os.path.join(a.out, f"plain-{name}.npy"), embed(net.encoder, images))
        np.save(os.path.join(a.out, f"plain-{name}.labels.npy"), labels.astype(np.int64))
    print(json.dumps({"side": "plain", "summary": True, "steps": step, "pairs": step * a.batch,
                      "budget_s": a.budget_s, "trained_s": round(trained_s, 1),
                      "pairs_per_s": round(step * a.batch / trained_s, 1), "last_loss": round(loss_value, 4),
                      "threads": torch.get_num_threads(), "workers": a.workers, "torch": torch.__version__}),
          flush=True)


if __name__ == "__main__":
    main()
