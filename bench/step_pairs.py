#!/usr/bin/python3
"""Paired step timing: siamstream's DJL learner against the plain PyTorch step, in turns, both sides kept warm.

bench/step-benchmark.sh (MODE=paired) runs this. It starts both sides in their serve mode (StepBenchmark ... serve and
pytorch_step.py ... serve), one after the other so that their warm-ups do not overlap, then runs PAIRS pairs of turns.
A turn is TURN_STEPS timed steps of one side while the other waits, blocked on its stdin. The order inside a pair
alternates (DJL first in pairs 1, 3, 5, ..., PyTorch first in pairs 2, 4, ...: D P P D D P ...), so that a drift of
the machine's speed over a few turns falls on both sides alike. A pair's ratio is the DJL turn's median step over the
PyTorch turn's.

Rounds of fresh processes (MODE=rounds) sit a minute or more apart, and on a 2-core VM the speed of the same step drifts
by a third between them; two adjacent turns of warm processes sit seconds apart.

Before each pair it waits (at most QUIET_WAIT seconds) for the machine to be >= 90% idle, and it measures the CPU that
other processes used during each turn (the machine's busy time less both sides' own CPU time, from /proc). A pair with
a turn above 5% is run again, up to TRIES times, and reported with its load either way.

Usage: step_pairs.py PAIRS TURN_STEPS QUIET_WAIT TRIES --djl CMD... --pytorch CMD...
Prints one JSON line per pair, then one summary JSON line (prefixed "summary ").
"""
import json
import os
import statistics
import subprocess
import sys
import time

LIMIT = 1.05


def busy_s():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    return (sum(f) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def wait_quiet(wait, own_pids):
    """Waits (at most WAIT seconds) until processes other than OWN_PIDS leave >= 90% of the machine idle."""
    deadline = time.time() + wait
    while wait > 0:
        b0, o0, w0 = busy_s(), sum(proc_cpu_s(p) for p in own_pids), time.time()
        time.sleep(2)
        used = busy_s() - b0 - (sum(proc_cpu_s(p) for p in own_pids) - o0)
        idle = 1 - used / ((time.time() - w0) * os.cpu_count())
        if idle >= 0.9:
            return
        if time.time() > deadline:
            print(f"step-benchmark: WARNING machine still busy ({idle:.0%} idle) after {wait:.0f} s; running anyway",
                  file=sys.stderr)
            return


class Side:
    def __init__(self, name, cmd):
        self.name = name
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.ready = self._read(lambda r: r.get("ready"))

    def _read(self, accept):
        for line in self.proc.stdout:
            if line.startswith("{"):
                record = json.loads(line)
                if accept(record):
                    return record
            else:
                print(f"step-pairs: {self.name}: {line.rstrip()}", file=sys.stderr)
        raise SystemExit(f"step-pairs: the {self.name} side ended (exit {self.proc.wait()}) without an answer")

    def turn(self, steps, all_pids):
        b0, o0 = busy_s(), sum(proc_cpu_s(p) for p in all_pids)
        w0 = time.time()
        self.proc.stdin.write(f"{steps}\n")
        self.proc.stdin.flush()
        answer = self._read(lambda r: "ms" in r)
        wall = time.time() - w0
        own = sum(proc_cpu_s(p) for p in all_pids) - o0
        answer["other_load"] = max(0.0, busy_s() - b0 - own) / (wall * os.cpu_count())
        answer["median_ms"] = statistics.median(answer["ms"])
        return answer

    def close(self):
        self.proc.stdin.close()
        if self.proc.wait() != 0:
            raise SystemExit(f"step-pairs: the {self.name} side failed (exit {self.proc.returncode})")


def main(argv):
    pairs, turn_steps, quiet_wait, tries = int(argv[1]), int(argv[2]), float(argv[3]), int(argv[4])
    rest = argv[5:]
    if "--djl" not in rest or "--pytorch" not in rest or rest.index("--djl") > rest.index("--pytorch"):
        raise SystemExit(__doc__)
    djl_cmd = rest[rest.index("--djl") + 1:rest.index("--pytorch")]
    pt_cmd = rest[rest.index("--pytorch") + 1:]

    djl = Side("djl", djl_cmd)  # warms up alone
    print(f"step-pairs: djl ready: {json.dumps(djl.ready)}", file=sys.stderr)
    pt = Side("pytorch", pt_cmd)
    print(f"step-pairs: pytorch ready: {json.dumps(pt.ready)}", file=sys.stderr)
    pids = [djl.ready["pid"], pt.ready["pid"]]

    results = []
    for k in range(pairs):
        order = (djl, pt) if k % 2 == 0 else (pt, djl)
        for attempt in range(1, tries + 1):
            wait_quiet(quiet_wait, pids)
            turns = {side.name: side.turn(turn_steps, pids) for side in order}
            load = max(t["other_load"] for t in turns.values())
            if load < 0.05 or attempt == tries:
                break
            print(f"step-pairs: pair {k + 1}: other processes used {load:.0%}; running it again", file=sys.stderr)
        d, p = turns["djl"], turns["pytorch"]
        pair = {"pair": k + 1, "first": order[0].name,
                "djl_ms": d["ms"], "pytorch_ms": p["ms"], "djl_cpu_ms": d["cpu_ms"], "pytorch_cpu_ms": p["cpu_ms"],
                "wall_ratio": round(d["median_ms"] / p["median_ms"], 4),
                "cpu_ratio": round(d["cpu_ms"] / p["cpu_ms"], 4),
                "other_load_djl": round(d["other_load"], 3), "other_load_pytorch": round(p["other_load"], 3),
                "loss_djl": d["loss"], "loss_pytorch": p["loss"]}
        results.append(pair)
        print(json.dumps(pair), flush=True)
        print(f"step-pairs: pair {k + 1}/{pairs}: wall {pair['wall_ratio']:.3f}, CPU {pair['cpu_ratio']:.3f}",
              file=sys.stderr)
    djl.close()
    pt.close()

    def spread(key):
        xs = [r[key] for r in results]
        return {"median": round(statistics.median(xs), 4), "min": min(xs), "max": max(xs),
                "at_or_below_limit": sum(x <= LIMIT for x in xs)}

    all_d = [ms for r in results for ms in r["djl_ms"]]
    all_p = [ms for r in results for ms in r["pytorch_ms"]]
    summary = {
        "pairs": pairs, "turn_steps": turn_steps, "limit": LIMIT,
        "djl_ms": round(statistics.median(all_d), 1), "pytorch_ms": round(statistics.median(all_p), 1),
        "djl_cpu_ms": round(statistics.median(r["djl_cpu_ms"] / turn_steps for r in results), 1),
        "pytorch_cpu_ms": round(statistics.median(r["pytorch_cpu_ms"] / turn_steps for r in results), 1),
        "wall": spread("wall_ratio"), "cpu": spread("cpu_ratio"),
        # all DJL time over all PyTorch time: the ratio of the two means, less moved by one slow turn than any pair
        "wall_total_ratio": round(sum(all_d) / sum(all_p), 4),
        "cpu_total_ratio": round(sum(r["djl_cpu_ms"] for r in results) / sum(r["pytorch_cpu_ms"] for r in results), 4),
        "other_load_djl": [r["other_load_djl"] for r in results],
        "other_load_pytorch": [r["other_load_pytorch"] for r in results],
        "djl": djl.ready, "pytorch": pt.ready}
    print("summary " + json.dumps(summary), flush=True)


if __name__ == "__main__":
    main(sys.argv)
