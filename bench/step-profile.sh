#!/usr/bin/env bash
# Where one step's time goes, both sides: runs io.siamstream.bench.StepBenchmark and bench/pytorch_step.py for one cell
# with their profilers on (PROFILE_STEPS steps after the timed ones, Chrome traces) and prints a table of self time per
# op and step, DJL beside PyTorch, sorted by the difference (bench/step_profile.py). Written to
# $RESULTS/step-profile-MODEL-BATCH.md.
#
# Options (environment): MODEL (default resnet18), BATCH (default 128), THREADS (default nproc), STEPS (timed steps
# before profiling, default 3), PROFILE_STEPS (default 2), ROWS (table rows, default 25), PYTHON, RESULTS,
# SKIP_BUILD/OFFLINE (bench/lib/prologue.sh). PROFILE_SHAPES=1 makes the DJL side record each op's input shapes in
# its trace (which layer a copy or a kernel belongs to; bench/conv/backward_copies.py shows such a use).
# The profilers slow the ops they record by a few percent, and a loaded machine inflates every op: the table's
# absolute times are above the step benchmark's; the shares and the differences are what it is for.
set -euo pipefail
BENCH_NAME=step-profile
source "$(dirname "${BASH_SOURCE[0]}")/lib/prologue.sh"

MODEL="${MODEL:-resnet18}"
BATCH="${BATCH:-128}"
THREADS="${THREADS:-$(nproc)}"
STEPS="${STEPS:-3}"
export PROFILE_STEPS="${PROFILE_STEPS:-2}"
ROWS="${ROWS:-25}"
PYTHON="${PYTHON:-/usr/bin/python3}"
if [[ "$PYTHON" == /usr/bin/python3 ]]; then bench_require_fast_blas; fi
export OMP_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS"

TRACES="$(mktemp -d)"
trap 'rm -rf "$TRACES"' EXIT
echo "step-profile: $MODEL batch $BATCH, $THREADS thread(s): DJL" >&2
djl="$(PROFILE_TRACE="$TRACES/djl.json" "${JAVA[@]}" -Xmx2g -Dai.djl.pytorch.num_threads="$THREADS" \
    -Dlog4j2.level=WARN -cp "$CP" io.siamstream.bench.StepBenchmark "$MODEL" "$BATCH" 2 "$STEPS")" \
  || die "the DJL run failed"
echo "step-profile: PyTorch" >&2
pt="$(PROFILE_TRACE="$TRACES/pytorch.json" "$PYTHON" "$ROOT/bench/pytorch_step.py" "$MODEL" "$BATCH" 2 "$STEPS" \
    "$THREADS")" || die "the PyTorch run failed"

OUTFILE="$RESULTS/step-profile-$MODEL-$BATCH.md"
{
  echo "# Where the step's time goes: $MODEL, batch $BATCH, $THREADS thread(s), both sides"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), \`MODEL=$MODEL BATCH=$BATCH THREADS=$THREADS bash bench/step-profile.sh\`;"
  echo "self time per op and step over $PROFILE_STEPS profiled steps (after $STEPS timed ones);"
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "Timed steps before profiling:"
  echo
  echo '```'
  grep '^{' <<<"$djl"
  grep '^{' <<<"$pt"
  echo '```'
  echo
  median() { grep '^{' <<<"$1" | tail -1 | "$PYTHON" -c 'import json,sys; print(json.loads(sys.stdin.read())["median_ms"])'; }
  "$PYTHON" "$ROOT/bench/step_profile.py" "$TRACES/djl.json" "$TRACES/pytorch.json" "$PROFILE_STEPS" "$ROWS" \
    "$(median "$djl")" "$(median "$pt")"
} >"$OUTFILE"
cat "$OUTFILE"
echo "step-profile: written to $OUTFILE" >&2
