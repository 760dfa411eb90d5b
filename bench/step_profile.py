#!/usr/bin/python3
"""Reads the two Chrome traces of bench/step-profile.sh (libtorch's profiler on the DJL side, the autograd profiler on
the PyTorch side, the same model, batch, threads and number of steps) and prints a markdown table of self time per op
and step, both sides, sorted by the difference.

Self time: an event's duration less the durations of the events nested directly inside it on the same thread, so that
a composite op (conv2d -> convolution -> mkldnn_convolution) is counted once, where the work is done. Ops are grouped
under their name with any leading "aten::" removed; the DJL side's names come from libtorch 2.7.1 and the PyTorch side's
from 1.13, so a few ops appear under different names (the table shows both where they differ).

Usage: step_profile.py DJL_TRACE PYTORCH_TRACE STEPS [ROWS [DJL_TIMED_MS PYTORCH_TIMED_MS]]
With the timed medians given, a last line compares each side's profiled step (the sum of self times) with its timed
step: a profiler that inflates one side much more than the other makes the per-op differences unreliable.
"""
import collections
import json
import sys


def self_times(path):
    """op name -> (self microseconds, calls) over the whole trace."""
    with open(path) as f:
        data = json.load(f)
    events = data["traceEvents"] if isinstance(data, dict) else data
    by_thread = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X" and "dur" in e and e.get("cat", "cpu_op") in ("cpu_op", "Operator", "operator", ""):
            by_thread[(e.get("pid"), e.get("tid"))].append(e)
    total = collections.defaultdict(float)
    calls = collections.Counter()
    for evs in by_thread.values():
        evs.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        stack = []  # [end, name, child time]
        def close(entry):
            end, name, start, child = entry
            total[name] += (end - start) - child
            if stack:
                stack[-1][3] += end - start
        for e in evs:
            ts, dur = float(e["ts"]), float(e["dur"])
            while stack and stack[-1][0] <= ts:
                close(stack.pop())
            name = e["name"][6:] if e["name"].startswith("aten::") else e["name"]
            calls[name] += 1
            stack.append([ts + dur, name, ts, 0.0])
        while stack:
            close(stack.pop())
    return total, calls


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    steps = int(argv[3])
    rows = int(argv[4]) if len(argv) > 4 else 25
    djl, djl_calls = self_times(argv[1])
    pt, pt_calls = self_times(argv[2])
    djl_total = sum(djl.values()) / steps / 1000
    pt_total = sum(pt.values()) / steps / 1000
    names = set(djl) | set(pt)
    diff = sorted(names, key=lambda n: -abs(djl.get(n, 0) - pt.get(n, 0)))
    print("| op | DJL ms/step | DJL calls/step | PyTorch ms/step | PyTorch calls/step | DJL - PyTorch ms |")
    print("|---|---|---|---|---|---|")
    shown = 0.0
    for n in diff[:rows]:
        d, p = djl.get(n, 0) / steps / 1000, pt.get(n, 0) / steps / 1000
        shown += d - p
        print(f"| {n} | {d:.1f} | {djl_calls[n] / steps:.0f} | {p:.1f} | {pt_calls[n] / steps:.0f} | {d - p:+.1f} |")
    print(f"| (the other {max(0, len(diff) - rows)} ops) | | | | | {(djl_total - pt_total) - shown:+.1f} |")
    print(f"| **all ops** | **{djl_total:.1f}** | | **{pt_total:.1f}** | | **{djl_total - pt_total:+.1f}** |")
    if len(argv) > 6:
        djl_timed, pt_timed = float(argv[5]), float(argv[6])
        print()
        print(f"Profiled step / timed step: DJL {djl_total / djl_timed:.2f} ({djl_total:.0f} / {djl_timed:.0f} ms),"
              f" PyTorch {pt_total / pt_timed:.2f} ({pt_total:.0f} / {pt_timed:.0f} ms)."
              + (" The profiler inflated the two sides differently: read the per-op differences with care."
                 if abs(djl_total / djl_timed - pt_total / pt_timed) > 0.15 else ""))


if __name__ == "__main__":
    main(sys.argv)
