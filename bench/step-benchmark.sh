#!/usr/bin/env bash
# Times the SimSiam training step of siamstream's DJL learner (io.siamstream.bench.StepBenchmark) against a plain
# PyTorch script with the identical architecture, batch and optimizer (bench/pytorch_step.py), one after the other,
# with the same number of threads, and prints a markdown table (also written to bench/results/step-benchmark.md).
#
# Options (environment):
#   MODELS   models to run             (default: "convnet resnet18-half resnet18")
#   BATCHES  batch sizes (view pairs)  (default: "64 128")
#   STEPS    timed steps per run       (default: 20 for convnet, 10 for the ResNets)
#   WARMUP   untimed warm-up steps     (default: 3)
#   THREADS  intra-op threads for both sides (default: nproc); sets OMP_NUM_THREADS, -Dai.djl.pytorch.num_threads
#            and torch.set_num_threads
#   PYTHON   the PyTorch peer's interpreter (default: /usr/bin/python3, Debian's python3-torch with OpenBLAS)
#   RESULTS  folder for step-benchmark.md (default: bench/results)
#   SKIP_BUILD=1 reuses the last build and classpath; OFFLINE=0 lets Maven download (bench/lib/prologue.sh)
#   QUIET_WAIT  seconds to wait, before each run, for the machine to be >= 90% idle (default 120; 0 = don't wait).
#               Other processes distort the timings badly (OpenMP threads of both sides wait on descheduled
#               peers), so the CPU time other processes used during each run is measured and reported.
#   TRIES       runs of each side at most, repeated while other processes used >= 5% of the CPU (default 3)
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

"$PYTHON" -c 'import torch' 2>/dev/null \
  || die "$PYTHON has no torch: apt-get install -y python3-torch libopenblas0-openmp"

export OMP_NUM_THREADS="$THREADS"
export MKL_NUM_THREADS="$THREADS"

QUIET_WAIT="${QUIET_WAIT:-120}"
TRIES="${TRIES:-3}"

# Runs "$@", passing its stdout through; on stderr (and in $LOAD_FILE) reports the share of the machine's CPU that
# other processes used while it ran.
LOAD_FILE="$(mktemp)"
read -r -d '' RUNNER <<'PY' || true
import os, resource, subprocess, sys, time
def busy():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    return (sum(f) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK")
wait, tries, load_file, cmd = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
for attempt in range(1, tries + 1):
    deadline = time.time() + wait
    while wait > 0:
        b0, w0 = busy(), time.time(); time.sleep(2)
        idle = 1 - (busy() - b0) / ((time.time() - w0) * os.cpu_count())
        if idle >= 0.9:
            break
        if time.time() > deadline:
            print(f"step-benchmark: WARNING machine still busy ({idle:.0%} idle) after {wait:.0f} s; running anyway",
                  file=sys.stderr)
            break
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
measured() { "$PYTHON" -c "$RUNNER" "$QUIET_WAIT" "$TRIES" "$LOAD_FILE" "$@"; }

# json_field JSON_LINE FIELD
json_field() { "$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

TABLE="$(mktemp)"
LOADS="$(mktemp)"
trap 'rm -f "$TABLE" "$LOADS" "$LOAD_FILE"' EXIT
{
  echo "| model | batch | DJL ms/step | PyTorch ms/step | DJL pairs/s | PyTorch pairs/s | ratio (DJL/PyTorch) | param counts equal? |"
  echo "|---|---|---|---|---|---|---|---|"
} >"$TABLE"

mismatch=0
for model in $MODELS; do
  if [[ -n "${STEPS:-}" ]]; then steps="$STEPS"; elif [[ "$model" == convnet ]]; then steps=20; else steps=10; fi
  for batch in $BATCHES; do
    echo "step-benchmark: $model batch $batch: $WARMUP warm-up + $steps timed steps, $THREADS thread(s)" >&2

    djl_out="$(measured "${JAVA[@]}" -Xmx2g -Dai.djl.pytorch.num_threads="$THREADS" -Dlog4j2.level=WARN \
        -cp "$CP" io.siamstream.bench.StepBenchmark "$model" "$batch" "$WARMUP" "$steps")" \
      || die "the DJL run failed for $model batch $batch"
    djl_load="$(cat "$LOAD_FILE")"
    djl_json="$(grep '^{"side": "djl"' <<<"$djl_out" | tail -1)"
    [[ -n "$djl_json" ]] || die "no result line from the DJL run: $djl_out"
    echo "$djl_json" >&2

    pt_out="$(measured "$PYTHON" "$ROOT/bench/pytorch_step.py" "$model" "$batch" "$WARMUP" "$steps" "$THREADS")" \
      || die "the PyTorch run failed for $model batch $batch"
    pt_load="$(cat "$LOAD_FILE")"
    pt_json="$(grep '^{"side": "pytorch"' <<<"$pt_out" | tail -1)"
    [[ -n "$pt_json" ]] || die "no result line from the PyTorch run: $pt_out"
    echo "$pt_json" >&2

    djl_ms="$(json_field "$djl_json" median_ms)"; pt_ms="$(json_field "$pt_json" median_ms)"
    djl_ps="$(json_field "$djl_json" pairs_per_s)"; pt_ps="$(json_field "$pt_json" pairs_per_s)"
    djl_params="$(json_field "$djl_json" params)"; pt_params="$(json_field "$pt_json" params)"
    ratio="$("$PYTHON" -c 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.3f}")' "$djl_ms" "$pt_ms")"
    if [[ "$djl_params" == "$pt_params" ]]; then
      equal="yes ($djl_params)"
    else
      equal="NO: DJL $djl_params, PyTorch $pt_params"
      mismatch=1
      echo "step-benchmark: PARAMETER COUNTS DIFFER for $model: DJL $djl_params, PyTorch $pt_params" >&2
    fi
    printf '| %s | %s | %.1f | %.1f | %.1f | %.1f | %s | %s |\n' \
      "$model" "$batch" "$djl_ms" "$pt_ms" "$djl_ps" "$pt_ps" "$ratio" "$equal" >>"$TABLE"
    printf '| %s | %s | %s | %s | %.1f / %.1f | %.1f / %.1f |\n' "$model" "$batch" "$djl_load" "$pt_load" \
      "$(json_field "$djl_json" min_ms)" "$(json_field "$djl_json" max_ms)" \
      "$(json_field "$pt_json" min_ms)" "$(json_field "$pt_json" max_ms)" >>"$LOADS"
  done
done

{
  echo "# SimSiam step: DJL learner vs plain PyTorch"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $THREADS thread(s) each side, warm-up $WARMUP, median of STEPS timed steps"
  echo "(convnet ${STEPS:-20}, ResNets ${STEPS:-10}); batch = view pairs, each step forwards 2 x batch images."
  echo "DJL: $(grep -m1 -o 'pytorch-native-cpu/[^/]*' "$BENCH_CP_FILE" | sed 's#.*/#libtorch #' || true) via DJL 0.35.1;" \
       "PyTorch: $("$PYTHON" -c 'import torch; print(torch.__version__)') ($PYTHON)."
  echo
  cat "$TABLE"
  echo
  echo "CPU used by other processes during each run (share of the whole machine; above a few % the timings are"
  echo "distorted), and the fastest / slowest timed step in ms:"
  echo
  echo "| model | batch | other load, DJL run | other load, PyTorch run | DJL min / max | PyTorch min / max |"
  echo "|---|---|---|---|---|---|"
  cat "$LOADS"
} >"$RESULTS/step-benchmark.md"
cat "$RESULTS/step-benchmark.md"
echo "step-benchmark: table written to $RESULTS/step-benchmark.md" >&2

if [[ "$mismatch" != 0 ]]; then
  die "trainable parameter counts differ between DJL and PyTorch: the models are not the same"
fi
