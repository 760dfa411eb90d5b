#!/usr/bin/python3
"""PyTorch side of bench/conv/ConvBench.java: the same conv2d shapes, forward and backward, thread CPU time.

Usage: conv_bench.py THREADS ITERS N,CIN,COUT,H,K,STRIDE,PAD,COUNT,INPUT_GRAD ..."""
import sys, time, json, statistics, torch, torch.nn.functional as F
torch.set_num_threads(int(sys.argv[1])); iters = int(sys.argv[2])
ft = bt = 0.0; c0 = time.process_time()
for spec in sys.argv[3:]:
    n, cin, cout, h, k, s, p, count, ig = map(int, spec.split(","))
    x = torch.randn(n, cin, h, h, requires_grad=bool(ig)); w = (torch.randn(cout, cin, k, k) * 0.05).requires_grad_()
    fw, bw = [], []
    for i in range(iters + 2):
        t0 = time.thread_time(); y = F.conv2d(x, w, None, s, p); t1 = time.thread_time()
        y.backward(torch.ones_like(y)); t2 = time.thread_time()
        if i >= 2: fw.append((t1 - t0) * 1e3); bw.append((t2 - t1) * 1e3)
        w.grad.zero_()
        if ig: x.grad.zero_()
    f1, b1 = statistics.median(fw), statistics.median(bw); ft += f1 * count; bt += b1 * count
    print(json.dumps({"side": "pytorch", "shape": spec, "fwd_ms": round(f1, 3), "bwd_ms": round(b1, 3)}))
print(json.dumps({"side": "pytorch", "total_fwd_ms": round(ft, 2), "total_bwd_ms": round(bt, 2), "cpu_s": round(time.process_time() - c0, 2)}))
