#!/usr/bin/env bash
# Times the SimSiam training step of siamstream's DJL learner (io.siamstream.bench.StepBenchmark) against a plain
# PyTorch script with the identical architecture, batch and optimizer (bench/pytorch_step.py), with the same number of
# threads, and prints a markdown table. Two ways to alternate the sides:
#   MODE=paired (default): both sides start once, warm up, and stay resident; bench/step_pairs.py then runs PAIRS
#     pairs of turns (TURN_STEPS timed steps of one side while the other waits), DJL first in pairs 1, 3, ... and
#     PyTorch first in pairs 2, 4, .... A pair's ratio compares two turns seconds apart, so the machine's slow drifts of speed cancel.
#     Table: bench/results/step-benchmark-pairs.md.
#   MODE=rounds: ROUNDS rounds of a fresh process per side (DJL, PyTorch, DJL, ...), each with its own warm-up, STEPS
#     timed steps. Table: bench/results/step-benchmark-rounds.md.
# Each side reports its wall time per step and its process CPU time; the ratios are per pair (or round), and the table
# gives their median and range, how many are at or below 1.05, and the ratio of the total times.
#
# Options (environment):
#   MODELS   models to run             (default: "convnet resnet18-half resnet18")
#   BATCHES  batch sizes (view pairs)  (default: "64 128")
#   MODE     paired or rounds (default: paired)
#   PAIRS    MODE=paired: pairs of turns per cell (default: 10)
#   TURN_STEPS  MODE=paired: timed steps per turn (default: 10 for convnet, 2 for the ResNets)
#   STEPS    MODE=rounds: timed steps per round and side (default: 30 for convnet, 10 for the ResNets)
#   ROUNDS   MODE=rounds: alternating rounds per cell (default: 3)
#   WARMUP   untimed warm-up steps     (default: 3)
#   THREADS  intra-op threads for both sides (default: nproc); sets OMP_NUM_THREADS, -Dai.djl.pytorch.num_threads
#            and torch.set_num_threads
#   PEER_CHANNELS_LAST=1  lays the PyTorch peer's model and inputs out channels last, as siamstream's backbones run
#            (default 0: the plain script's contiguous NCHW)
#   PYTHON   the PyTorch peer's interpreter (default: /usr/bin/python3, Debian's python3-torch with OpenBLAS)
#   RESULTS  folder for step-benchmark-pairs.md or step-benchmark-rounds.md (default: bench/results)
#   SKIP_BUILD=1 reuses the last build and classpath; OFFLINE=0 lets Maven download (bench/lib/prologue.sh)
#   QUIET_WAIT  seconds to wait, before each run (each pair), for the machine to be >= 90% idle (default 120; 0 = don't wait).
#               Other processes distort the timings badly (OpenMP threads of both sides wait on descheduled
#               peers), so the CPU time other processes used during each run is measured and reported.
#   TRIES       runs of each side (each pair) at most, repeated while other processes used >= 5% of the CPU (default 3)
#
# Fails (exit 1) when a run fails or when the two sides' trainable parameter counts differ.
set -euo pipefail
BENCH_NAME=step-benchmark
source "$(dirname "${BASH_SOURCE[0]}")/lib/prologue.sh"

MODELS="${MODELS:-convnet resnet18-half resnet18}"
BATCHES="${BATCHES:-64 128}"
WARMUP="${WARMUP:-3}"
THREADS="${THREADS:-$(nproc)}"
PYTHON="${PYTHON:-/usr/bin/python3}"
if [[ "$PYTHON" == /usr/bin/python3 ]]; then bench_require_fast_blas; fi
ROUNDS="${ROUNDS:-3}"
MODE="${MODE:-paired}"
PAIRS="${PAIRS:-10}"
case "$MODE" in paired|rounds) ;; *) die "MODE=$MODE is not allowed; allowed values: paired, rounds" ;; esac

"$PYTHON" -c 'import torch' 2>/dev/null \
  || die "$PYTHON has no torch: apt-get install -y python3-torch libopenblas0-openmp"

export OMP_NUM_THREADS="$THREADS"
export CHANNELS_LAST="${PEER_CHANNELS_LAST:-0}"  # read by pytorch_step.py only
PEER_LAYOUT="contiguous NCHW"; [[ "$CHANNELS_LAST" == 1 ]] && PEER_LAYOUT="channels last"
export MKL_NUM_THREADS="$THREADS"

QUIET_WAIT="${QUIET_WAIT:-120}"
TRIES="${TRIES:-3}"

# Runs "$@", passing its stdout through; on stderr (and in $LOAD_FILE) reports the share of the machine's CPU that
# other processes used while it ran.
LOAD_FILE="$(mktemp)"
read -r -d '' RUNNER <<'PY' || true
import os, resource, subprocess, sys, time
from step_pairs import busy_s as busy, wait_quiet  # the paired mode's measures (bench/ is on PYTHONPATH)
wait, tries, load_file, cmd = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
for attempt in range(1, tries + 1):
    wait_quiet(wait, [])
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN); b0 = busy(); w0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN); b1 = busy(); w1 = time.time()
    own = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    foreign = max(0.0, (b1 - b0) - own) / ((w1 - w0) * os.cpu_count()) * 100
    print(f"step-benchmark: {w1 - w0:.0f} s, other processes used {foreign:.0f}% of the machine's CPU"
          f" (try {attempt} of {tries})", file=sys.stderr)
    if p.returncode != 0 or foreign < 5:
        break
open(load_file, "w").write(f"{foreign:.0f}%")
sys.stdout.write(p.stdout)
sys.exit(p.returncode)
PY
measured() { PYTHONPATH="$ROOT/bench" "$PYTHON" -c "$RUNNER" "$QUIET_WAIT" "$TRIES" "$LOAD_FILE" "$@"; }

# json_field JSON_LINE FIELD
json_field() { "$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

DJL_LIB="$(grep -m1 -o 'pytorch-native-cpu/[^/]*' "$BENCH_CP_FILE" | sed 's#.*/#libtorch #' || true)"
PT_VERSION="$("$PYTHON" -c 'import torch; print(torch.__version__)')"
djl_cmd() {
  echo "${JAVA[@]}" -Xmx2g -Dai.djl.pytorch.num_threads="$THREADS" -Dai.djl.pytorch.num_interop_threads=1 \
    -Dlog4j2.level=WARN -cp "$CP" io.siamstream.bench.StepBenchmark
}

if [[ "$MODE" == paired ]]; then
  PAIRLOG="$(mktemp)"; PTABLE="$(mktemp)"; PLOADS="$(mktemp)"
  trap 'rm -f "$PAIRLOG" "$PTABLE" "$PLOADS" "$LOAD_FILE"' EXIT
  mismatch=0
  for model in $MODELS; do
    if [[ -n "${TURN_STEPS:-}" ]]; then turn="$TURN_STEPS"; elif [[ "$model" == convnet ]]; then turn=10; else turn=2; fi
    for batch in $BATCHES; do
      echo "step-benchmark: $model batch $batch: $PAIRS pairs of turns of $turn timed steps, after $WARMUP warm-up" \
           "steps each side, $THREADS thread(s)" >&2
      # shellcheck disable=SC2046  # djl_cmd's words are the java command line (no spaces inside a word)
      out="$("$PYTHON" "$ROOT/bench/step_pairs.py" "$PAIRS" "$turn" "$QUIET_WAIT" "$TRIES" \
          --djl $(djl_cmd) "$model" "$batch" "$WARMUP" serve \
          --pytorch "$PYTHON" "$ROOT/bench/pytorch_step.py" "$model" "$batch" "$WARMUP" serve "$THREADS")" \
        || die "the paired run failed for $model batch $batch"
      grep '^{"pair"' <<<"$out" | sed "s/^/$model $batch /" >>"$PAIRLOG"
      summary="$(grep '^summary ' <<<"$out" | cut -d' ' -f2-)"
      [[ -n "$summary" ]] || die "no summary from the paired run for $model batch $batch"
      "$PYTHON" - "$model" "$batch" "$summary" "$PTABLE" "$PLOADS" <<'PY' || mismatch=1
import json, sys
model, batch, s, table, loads = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], sys.argv[5]
n = s["pairs"]
d, p = s["djl"]["params"], s["pytorch"]["params"]
equal = f"yes ({d})" if d == p else f"NO: DJL {d}, PyTorch {p}"
w, c = s["wall"], s["cpu"]
with open(table, "a") as f:
    f.write(f"| {model} | {batch} | {s['djl_ms']} | {s['pytorch_ms']} | **{w['median']:.3f}** ({w['min']:.3f} - {w['max']:.3f})"
            f" | {w['at_or_below_limit']} of {n} | {s['wall_total_ratio']:.3f} | {s['djl_cpu_ms']} | {s['pytorch_cpu_ms']}"
            f" | **{c['median']:.3f}** ({c['min']:.3f} - {c['max']:.3f}) | {c['at_or_below_limit']} of {n}"
            f" | {s['cpu_total_ratio']:.3f} | {equal} |\n")
pct = lambda xs: " ".join(f"{x:.0%}" for x in xs)
with open(loads, "a") as f:
    f.write(f"| {model} | {batch} | {pct(s['other_load_djl'])} | {pct(s['other_load_pytorch'])} |\n")
sys.exit(0 if d == p else 1)
PY
    done
  done
  {
    echo "# SimSiam step: DJL learner vs plain PyTorch, paired turns of warm processes"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(getconf _NPROCESSORS_ONLN) cores, $THREADS thread(s) each side. Per cell"
    echo "both sides start once and warm up ($WARMUP steps each, one after the other), then $PAIRS pairs of turns: a turn is"
    echo "TURN_STEPS timed steps (convnet ${TURN_STEPS:-10}, ResNets ${TURN_STEPS:-2}) of one side while the other waits;"
    echo "DJL goes first in odd-numbered pairs, PyTorch in even ones. batch = view pairs, each step forwards 2 x batch"
    echo "images. A pair's wall ratio: the DJL turn's median step over the PyTorch turn's; CPU ratio: the two turns'"
    echo "process CPU time (all threads). ms/step: median over all timed steps; CPU ms/step: median over turns."
    echo "Total: all DJL time over all PyTorch time. DJL: $DJL_LIB via DJL 0.35.1; PyTorch: $PT_VERSION ($PYTHON), $PEER_LAYOUT."
    echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "| model | batch | DJL ms/step | PyTorch ms/step | wall ratio (DJL/PyTorch), median (min - max) | pairs <= 1.05 | wall, total | DJL CPU ms/step | PyTorch CPU ms/step | CPU ratio, median (min - max) | pairs <= 1.05 | CPU, total | param counts equal? |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    cat "$PTABLE"
    echo
    echo "CPU used by other processes during each turn (share of the whole machine, pair 1 first):"
    echo
    echo "| model | batch | other load, DJL turns | other load, PyTorch turns |"
    echo "|---|---|---|---|"
    cat "$PLOADS"
    echo
    echo "Every pair (model, batch, then the pair's record):"
    echo
    echo '```'
    cat "$PAIRLOG"
    echo '```'
  } >"$RESULTS/step-benchmark-pairs.md"
  cat "$RESULTS/step-benchmark-pairs.md"
  echo "step-benchmark: table written to $RESULTS/step-benchmark-pairs.md" >&2
  [[ "$mismatch" == 0 ]] || die "trainable parameter counts differ between DJL and PyTorch: the models are not the same"
  exit 0
fi

TABLE="$(mktemp)"
LOADS="$(mktemp)"
ROUNDLOG="$(mktemp)"
trap 'rm -f "$TABLE" "$LOADS" "$LOAD_FILE" "$ROUNDLOG"' EXIT
{
  echo "| model | batch | DJL ms/step | PyTorch ms/step | wall ratio (DJL/PyTorch), median (min - max) | DJL CPU ms/step | PyTorch CPU ms/step | CPU ratio, median (min - max) | param counts equal? |"
  echo "|---|---|---|---|---|---|---|---|---|"
} >"$TABLE"

# summary ROUND_JSON_LINES...: medians over rounds and per-round ratios (wall and CPU), as one table row's cells
read -r -d '' SUMMARY <<'PY' || true
import json, statistics as st, sys
rounds = [json.loads(l) for l in sys.argv[1:]]
d = [r for r in rounds if r["side"] == "djl"]; p = [r for r in rounds if r["side"] == "pytorch"]
wall = [a["median_ms"] / b["median_ms"] for a, b in zip(d, p)]
cpu = [a["cpu_ms"] / b["cpu_ms"] for a, b in zip(d, p)]
med = lambda xs, k: st.median(x[k] for x in xs)
print(f"{med(d, 'median_ms'):.1f} | {med(p, 'median_ms'):.1f} | **{st.median(wall):.3f}** ({min(wall):.3f} - {max(wall):.3f})"
      f" | {med(d, 'cpu_ms'):.1f} | {med(p, 'cpu_ms'):.1f} | **{st.median(cpu):.3f}** ({min(cpu):.3f} - {max(cpu):.3f})")
PY

mismatch=0
for model in $MODELS; do
  if [[ -n "${STEPS:-}" ]]; then steps="$STEPS"; elif [[ "$model" == convnet ]]; then steps=30; else steps=10; fi
  for batch in $BATCHES; do
    echo "step-benchmark: $model batch $batch: $ROUNDS rounds of $WARMUP warm-up + $steps timed steps each side, $THREADS thread(s)" >&2
    jsons=(); djl_loads=(); pt_loads=()
    for ((round = 1; round <= ROUNDS; round++)); do
      # shellcheck disable=SC2046  # djl_cmd's words are the java command line (no spaces inside a word)
      djl_out="$(measured $(djl_cmd) "$model" "$batch" "$WARMUP" "$steps")" \
        || die "the DJL run failed for $model batch $batch"
      djl_loads+=("$(cat "$LOAD_FILE")")
      djl_json="$(grep '^{"side": "djl"' <<<"$djl_out" | tail -1)"
      [[ -n "$djl_json" ]] || die "no result line from the DJL run: $djl_out"
      echo "round $round: $djl_json" >&2

      pt_out="$(measured "$PYTHON" "$ROOT/bench/pytorch_step.py" "$model" "$batch" "$WARMUP" "$steps" "$THREADS")" \
        || die "the PyTorch run failed for $model batch $batch"
      pt_loads+=("$(cat "$LOAD_FILE")")
      pt_json="$(grep '^{"side": "pytorch"' <<<"$pt_out" | tail -1)"
      [[ -n "$pt_json" ]] || die "no result line from the PyTorch run: $pt_out"
      echo "round $round: $pt_json" >&2
      jsons+=("$djl_json" "$pt_json")
      printf '%s\n%s\n' "$djl_json" "$pt_json" >>"$ROUNDLOG"
    done

    djl_params="$(json_field "$djl_json" params)"; pt_params="$(json_field "$pt_json" params)"
    if [[ "$djl_params" == "$pt_params" ]]; then
      equal="yes ($djl_params)"
    else
      equal="NO: DJL $djl_params, PyTorch $pt_params"
      mismatch=1
      echo "step-benchmark: PARAMETER COUNTS DIFFER for $model: DJL $djl_params, PyTorch $pt_params" >&2
    fi
    printf '| %s | %s | %s | %s |\n' "$model" "$batch" "$("$PYTHON" -c "$SUMMARY" "${jsons[@]}")" "$equal" >>"$TABLE"
    printf '| %s | %s | %s | %s |\n' "$model" "$batch" "${djl_loads[*]}" "${pt_loads[*]}" >>"$LOADS"
  done
done

{
  echo "# SimSiam step: DJL learner vs plain PyTorch, alternating rounds"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(getconf _NPROCESSORS_ONLN) cores, $THREADS thread(s) each side; per cell $ROUNDS rounds of"
  echo "DJL then PyTorch, each a fresh process: warm-up $WARMUP, then STEPS timed steps (convnet ${STEPS:-30}, ResNets"
  echo "${STEPS:-10}); batch = view pairs, each step forwards 2 x batch images. ms/step: median over rounds of each"
  echo "round's median step; CPU ms/step: the process's CPU time (all threads) over the timed steps / steps."
  echo "DJL: $DJL_LIB via DJL 0.35.1; PyTorch: $PT_VERSION ($PYTHON), $PEER_LAYOUT."
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  cat "$TABLE"
  echo
  echo "CPU used by other processes during each round (share of the whole machine, round 1 first; above a few %"
  echo "the wall times are distorted, the CPU times much less):"
  echo
  echo "| model | batch | other load, DJL rounds | other load, PyTorch rounds |"
  echo "|---|---|---|---|"
  cat "$LOADS"
  echo
  echo "Every round's result line:"
  echo
  echo '```'
  cat "$ROUNDLOG"
  echo '```'
} >"$RESULTS/step-benchmark-rounds.md"
cat "$RESULTS/step-benchmark-rounds.md"
echo "step-benchmark: table written to $RESULTS/step-benchmark-rounds.md" >&2

if [[ "$mismatch" != 0 ]]; then
  die "trainable parameter counts differ between DJL and PyTorch: the models are not the same"
fi
