#!/usr/bin/python3
"""The copies inside each convolution's backward, libtorch 2.7.1 (through DJL) beside PyTorch 1.13: the same shapes.

Reads the Chrome trace that ConvBench.java writes with PROFILE_TRACE set (one forward and backward per shape, input
shapes recorded), runs the same shapes under PyTorch's autograd profiler, and prints, per shape, the self-contained
time of the aten::clone calls below aten::convolution_backward on each side, and the shapes they copied.

Usage: backward_copies.py DJL_TRACE THREADS N,CIN,COUT,H,K,STRIDE,PAD,COUNT,INPUT_GRAD ..."""
import json, sys, torch, torch.nn.functional as F


def djl_copies(path):
    """[[(copied shape, ms)]] in trace order, one list per convolution_backward."""
    events = sorted((e for e in json.load(open(path)) if e.get("ph") == "X"), key=lambda e: (e["ts"], -e["dur"]))
    out, stack = [], []
    for e in events:
        while stack and stack[-1]["ts"] + stack[-1]["dur"] <= e["ts"]:
            stack.pop()
        if e["name"] == "aten::convolution_backward":
            out.append([])
        elif e["name"] == "aten::clone" and any(s["name"] == "aten::convolution_backward" for s in stack):
            out[-1].append(((e.get("shape") or [[]])[0], e["dur"] / 1e3))
        stack.append(e)
    return out


def pytorch_copies(spec):
    n, cin, cout, h, k, s, p, count, ig = map(int, spec.split(","))
    x = torch.randn(n, cin, h, h, requires_grad=bool(ig))
    w = (torch.randn(cout, cin, k, k) * 0.05).requires_grad_()
    for _ in range(2):
        y = F.conv2d(x, w, None, s, p)
        y.backward(torch.ones_like(y))
    with torch.autograd.profiler.profile(record_shapes=True) as prof:
        y = F.conv2d(x, w, None, s, p)
        y.backward(torch.ones_like(y))
    copies = []

    def walk(event, inside):
        inside = inside or event.name == "aten::convolution_backward"
        if inside and event.name == "aten::clone":
            copies.append((event.input_shapes[0], event.cpu_time_total / 1e3))
        for child in event.cpu_children:
            walk(child, inside)

    for event in prof.function_events:
        if event.cpu_parent is None:
            walk(event, False)
    return copies


def describe(copies):
    return "; ".join(f"{list(shape)} {ms:.2f} ms" for shape, ms in copies) or "none"


def main():
    trace, threads, specs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    torch.set_num_threads(threads)
    djl = djl_copies(trace)
    if len(djl) != len(specs):
        sys.exit(f"backward_copies: {len(djl)} convolution backwards in {trace}, {len(specs)} shapes given")
    print("| shape (n,cin,cout,h,k,stride,pad,count,input_grad) | libtorch 2.7.1 (DJL): clones in backward | "
          "PyTorch 1.13: clones in backward |")
    print("|---|---|---|")
    for spec, copies in zip(specs, djl):
        print(f"| {spec} | {describe(copies)} | {describe(pytorch_copies(spec))} |")


if __name__ == "__main__":
    main()
