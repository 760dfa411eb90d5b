#!/usr/bin/env bash
# Accuracy per CPU-minute: the streaming job against a plain PyTorch SimSiam script, on the full Fashion-MNIST, one
# after the other on the same machine, each for the same wall-clock budget, both scored by the same scorer.
#
#   1. the job: io.siamstream.job.EmbeddedDemo (replay source -> two augmentation operators -> pairing -> keyed
#      training operator, RocksDB state, unaligned checkpoints every 10 s), SimSiam, small ConvNet, batch BATCH,
#      in-job evaluation off (siamstream.eval.enabled false: the plain script does not evaluate while it trains
#      either), a model version published every PUBLISH_EVERY steps. It is stopped when the budget (counted from the
#      JVM's start) is spent; what is scored is what a downstream consumer has at that moment: the last committed
#      model artifact (models/LATEST), embedded with `model embed` (DJL, inference mode).
#   2. the plain script: bench/plain_simsiam.py (PyTorch 1.13 eager, a DataLoader with WORKERS worker processes),
#      with the identical ConvNet, heads, initialisation, SGD, learning-rate schedule, batch and augmentation policy
#      (see its docstring); it trains until the budget (counted from the interpreter's start) is spent and exports
#      its encoder's features.
#   3. the scorer: io.siamstream.bench.FeatureScore reads both sides' features (.npy) and scores them with the job's
#      evaluator: kNN (k = 200, T = 0.1, cosine; 60,000 train images as the bank, the 10,000 test images as queries)
#      and the linear probe.
#
# usage: bench/quality-race.sh [all|job|plain|score]   (default: all)
# Options (environment):
#   DATA            the Fashion-MNIST IDX directory (default /usr/share/datasets/fashion-mnist)
#   BUDGET_MIN (12) wall-clock minutes for each side;  BUDGET_S: the same in seconds (wins over BUDGET_MIN)
#   BATCH (128)     view pairs per step;  BASE_LR (0.5): lr = BASE_LR x BATCH / 256, cosine over SCHEDULE_STEPS
#   SCHEDULE_STEPS  the cosine schedule's length, the same for both sides (default: the steps that PAIRS_PER_S
#                   pairs/s reach in the budget; PAIRS_PER_S defaults to 350, about the job's rate with one
#                   thread on a quiet 2-core machine, so that the faster side does not idle at lr 0 at the end); a
#                   side that is slower ends its budget before the schedule does, which is part of what the race
#                   measures
#   THREADS (1)     PyTorch intra-op threads on both sides (1 interop thread);  WORKERS (1): the script's loader
#                   processes (the job runs its two augmentation operators, one subtask each)
#   PUBLISH_EVERY (20)  the job's steps between model versions
#   JOB_EXTRA_ARGS  more options for the job side only, after the ones above (a later option wins), e.g. another
#                   method and optimizer: the two sides then no longer train the same recipe, so `score` then scores
#                   what exists (`job` alone when there are no plain features) and writes no race table
#   NICE (0)        niceness of both sides
#   OUT             output folder (default out/quality-race): job/ (the job's output), job.log, plain.log,
#                   *-train.npy / *-test.npy (features), scores.jsonl, lib/
#   SKIP_BUILD=1, OFFLINE=0, RESULTS: see bench/lib/prologue.sh. The table goes to RESULTS/quality-race.md.
set -euo pipefail
[[ -r "${DATA:-/usr/share/datasets/fashion-mnist}/train-images-idx3-ubyte.gz" ]] || {
  echo "quality-race: no Fashion-MNIST in ${DATA:-/usr/share/datasets/fashion-mnist}" \
       "(apt-get install dataset-fashion-mnist, or set DATA)" >&2; exit 1; }
BENCH_NAME=quality-race
source "$(dirname "${BASH_SOURCE[0]}")/lib/prologue.sh"
WHAT="${1:-all}"
DATA="$(bench_path "${DATA:-/usr/share/datasets/fashion-mnist}")"
BUDGET_MIN="${BUDGET_MIN:-12}"
BUDGET_S="${BUDGET_S:-$(( BUDGET_MIN * 60 ))}"
BATCH="${BATCH:-128}"
BASE_LR="${BASE_LR:-0.5}"
PAIRS_PER_S="${PAIRS_PER_S:-350}"
SCHEDULE_STEPS="${SCHEDULE_STEPS:-$(( BUDGET_S * PAIRS_PER_S / BATCH ))}"
THREADS="${THREADS:-1}"
WORKERS="${WORKERS:-1}"
PUBLISH_EVERY="${PUBLISH_EVERY:-20}"
NICE="${NICE:-0}"
OUT="$(bench_path "${OUT:-$ROOT/out/quality-race}")"
PYTHON="${PYTHON:-/usr/bin/python3}"
if [[ "$PYTHON" == /usr/bin/python3 ]]; then bench_require_fast_blas; fi
mkdir -p "$OUT"
bench_snapshot "$OUT"
export OMP_NUM_THREADS="$THREADS"
TIME=()
[[ -x /usr/bin/time ]] && TIME=(/usr/bin/time -f "cpu_s %U user %S system, max_rss_kb %M")
java_run() {
  "${JAVA[@]}" -Xmx6g -Dai.djl.pytorch.num_threads="$THREADS" -Dai.djl.pytorch.num_interop_threads=1 \
    -Dlog4j2.level=WARN -cp "$CP" "$@"
}

if [[ "$WHAT" == all || "$WHAT" == job ]]; then
  rm -rf "$OUT/job"
  ARGS=(--siamstream.data "$DATA" --siamstream.source.epochs 1000 --siamstream.method simsiam
        --siamstream.train.batch-size "$BATCH" --siamstream.train.base-lr "$BASE_LR"
        --siamstream.train.schedule-steps "$SCHEDULE_STEPS" --siamstream.train.publish-every "$PUBLISH_EVERY"
        --siamstream.eval.enabled false --siamstream.train.device cpu --siamstream.output "$OUT/job")
  read -r -a JOB_EXTRA <<< "${JOB_EXTRA_ARGS:-}"
  ARGS+=("${JOB_EXTRA[@]}")
  echo "# $(date -u +%FT%TZ) job for ${BUDGET_S} s: EmbeddedDemo ${ARGS[*]} ($THREADS thread(s), nice $NICE)" \
    | tee "$OUT/job.log"
  echo "# load before: $(cat /proc/loadavg)" | tee -a "$OUT/job.log"
  START=$(date +%s)
  # SIGTERM at the budget (counted from the JVM's start), SIGKILL 10 s later if it is still there
  { nice -n "$NICE" "${TIME[@]}" timeout -k 10 "$BUDGET_S" "${JAVA[@]}" -Xmx6g \
      -Dai.djl.pytorch.num_threads="$THREADS" -Dai.djl.pytorch.num_interop_threads=1 -Dlog4j2.level=WARN \
      -cp "$CP" io.siamstream.job.EmbeddedDemo "${ARGS[@]}" 2>&1 || true; } | while IFS= read -r line; do
    printf '%6ds %s\n' $(( $(date +%s) - START )) "$line"
  done >> "$OUT/job.log"
  echo "# $(date -u +%FT%TZ) job stopped after $(( $(date +%s) - START )) s; load after: $(cat /proc/loadavg)" \
    | tee -a "$OUT/job.log"
  [[ -f "$OUT/job/models/LATEST" ]] || die "the job committed no model version in its budget (see $OUT/job.log)"
  echo "job: scoring model version $(cat "$OUT/job/models/LATEST") (models/LATEST)" | tee -a "$OUT/job.log"
  for split in train test; do
    java_run io.siamstream.job.ModelCommand embed --model "$OUT/job/models" --data "$DATA" --split "$split" \
      --out "$OUT/job-$split.npy" 2>&1 | grep -v WARN | tee -a "$OUT/job.log"
  done
fi

if [[ "$WHAT" == all || "$WHAT" == plain ]]; then
  echo "# $(date -u +%FT%TZ) plain PyTorch script for ${BUDGET_S} s ($THREADS thread(s), $WORKERS loader worker(s))" \
    | tee "$OUT/plain.log"
  echo "# load before: $(cat /proc/loadavg)" | tee -a "$OUT/plain.log"
  nice -n "$NICE" "${TIME[@]}" "$PYTHON" "$ROOT/bench/plain_simsiam.py" --data "$DATA" --out "$OUT" \
    --budget-s "$BUDGET_S" --batch "$BATCH" --base-lr "$BASE_LR" --schedule-steps "$SCHEDULE_STEPS" \
    --threads "$THREADS" --workers "$WORKERS" 2>&1 | tee -a "$OUT/plain.log"
  echo "# $(date -u +%FT%TZ) load after: $(cat /proc/loadavg)" | tee -a "$OUT/plain.log"
fi

if [[ "$WHAT" == all || "$WHAT" == score ]]; then
  sides=()
  for side in job plain; do [[ -f "$OUT/$side-test.npy" ]] && sides+=("$side"); done
  [[ ${#sides[@]} -gt 0 ]] || die "no features to score in $OUT (run the job or plain side first)"
  java_run io.siamstream.bench.FeatureScore "$OUT" "${sides[@]}" 2>&1 | grep '^{' | tee "$OUT/scores.jsonl"
  if [[ ${#sides[@]} -lt 2 || -n "${JOB_EXTRA_ARGS:-}" ]]; then
    echo "quality-race: scored ${sides[*]} only; no race table (one side, or JOB_EXTRA_ARGS changed the job's recipe)" >&2
    exit 0
  fi
  "$PYTHON" - "$OUT" "$BUDGET_S" "$BATCH" "$SCHEDULE_STEPS" "$THREADS" "$WORKERS" "$RESULTS/quality-race.md" \
    "$(git -C "$ROOT" rev-parse --short HEAD)" <<'EOF'
import glob, json, os, re, sys
out, budget, batch, schedule, threads, workers, table, commit = sys.argv[1:]
budget, batch = int(budget), int(batch)
scores = {}
for line in open(os.path.join(out, "scores.jsonl")):
    s = json.loads(line)
    scores[s["name"]] = s

def cpu(log):
    m = re.search(r"cpu_s ([0-9.]+) user ([0-9.]+) system", open(log).read())
    return float(m.group(1)) + float(m.group(2)) if m else float("nan")

# the job: every committed step record (the steps/ files are exactly once), the scored version
steps = []
for f in glob.glob(os.path.join(out, "job", "steps", "**", "*"), recursive=True):
    if os.path.isfile(f) and not os.path.basename(f).startswith("."):
        steps += [json.loads(l) for l in open(f) if l.strip()]
job_steps = max((s["step"] for s in steps), default=0)
step_s = sum(s["step_ms"] for s in steps) / 1000
scored = int(open(os.path.join(out, "job", "models", "LATEST")).read().strip().split("/")[-1].lstrip("v") or 0) \
    if os.path.exists(os.path.join(out, "job", "models", "LATEST")) else 0
plain = [json.loads(l) for l in open(os.path.join(out, "plain.log")) if l.startswith("{")]
summary = next(p for p in plain if p.get("summary"))
rows = [
    ("the job (EmbeddedDemo, RocksDB, 10-s checkpoints)", job_steps, scored, job_steps * batch / budget,
     cpu(os.path.join(out, "job.log")), scores.get("job")),
    ("plain PyTorch script", summary["steps"], summary["steps"], summary["steps"] * batch / budget,
     cpu(os.path.join(out, "plain.log")), scores.get("plain")),
]
lines = [
    "| side | steps in the budget | step scored | pairs/s over the budget | CPU s (all threads) | kNN top-1 | linear probe |",
    "|---|---|---|---|---|---|---|",
]
for name, reached, scored_step, pps, cpu_s, sc in rows:
    lines.append(f"| {name} | {reached} | {scored_step} | {pps:.1f} | {cpu_s:.0f} | "
                 f"{sc['knn']:.4f} | {sc['linear']:.4f} |")
lines.append("")
lines.append(f"Budget {budget} s each, batch {batch}, cosine over {schedule} steps, {threads} PyTorch thread(s) each, "
             f"{workers} loader worker(s) for the script, commit {commit}. The job's training thread spent "
             f"{step_s:.0f} s of its {budget} s in steps ({100 * step_s / budget:.0f}%); its step records: "
             f"{len(steps)}.")
text = "\n".join(lines)
print(text)
with open(table, "w") as f:
    f.write("# Quality race: the job vs a plain PyTorch SimSiam script (bench/quality-race.sh), last run\n\n"
            + text + "\n")
EOF
fi
