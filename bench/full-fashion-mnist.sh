#!/usr/bin/env bash
# SimSiam on the full Fashion-MNIST train stream (60,000 images), small ConvNet, CPU, through the real streaming job
# (EmbeddedDemo: replay source -> two augmentation operators -> pairing -> keyed training operator with RocksDB and
# checkpoints every 10 s -> evaluation of each published encoder), evaluated by kNN (k=200, T=0.1, cosine) on the
# full test split (10,000 queries) against the full train split (60,000 bank images); and first the bar it has to
# clear: kNN on raw pixels computed the same way (io.siamstream.job.KnnBaselines, which also measures the untrained
# encoder), on the bundled sample and on the full set.
#
# usage: bench/full-fashion-mnist.sh [baseline|job|all]   (default: all)
# Options (environment):
#   DATA            the Fashion-MNIST IDX directory (default /usr/share/datasets/fashion-mnist, Debian's
#                   dataset-fashion-mnist)
#   EPOCHS (8)      epochs of the train stream; steps = EPOCHS x 60000 / BATCH (an incomplete last batch is unused)
#   BATCH (128)     view pairs per step
#   BASE_LR (0.5)   lr = BASE_LR x BATCH / 256
#   SCHEDULE_STEPS  length of the cosine schedule (default: the run's steps, so the lr decays to 0 at the end)
#   PUBLISH_EVERY (500)  steps between evaluations (each one embeds 70,000 images: about a minute of CPU)
#   LINEAR_EVERY (0)     linear probe every N evaluations (0: never; it is slow on 60,000 x 256 features)
#   THREADS (1)     PyTorch intra-op threads (1 interop thread); 1 is faster than 2 on a busy 2-core machine
#   NICE (10)       niceness of the JVMs
#   OUT             output folder (default out/full-fashion-mnist; a relative one is taken from the directory the
#                   script is started in): baseline.txt, job.log (every line time-stamped with the seconds since the
#                   job started), steps/, reports/ (JSON lines), checkpoints/, lib/
#   SKIP_BUILD=1    use the last build; OFFLINE=0 lets Maven download (bench/lib/prologue.sh)
#   MAIN            the job's main class (default io.siamstream.job.EmbeddedDemo)
#   EXTRA_ARGS      more job options, appended after the ones above (e.g. another method:
#                   "--siamstream.method simclr --siamstream.train.optimizer lars"); the baselines get them too
# Builds with the reactor (bench/lib/prologue.sh; package, no install). The checkout's classes and module jars are
# copied to OUT/lib first, so a rebuild during the (long) run does not change the code under it.
set -euo pipefail
# before the build, from the directory the script is started in (where a relative DATA is)
[[ -r "${DATA:-/usr/share/datasets/fashion-mnist}/train-images-idx3-ubyte.gz" ]] || {
  echo "full-fashion-mnist: no Fashion-MNIST in ${DATA:-/usr/share/datasets/fashion-mnist}" \
       "(apt-get install dataset-fashion-mnist, or set DATA)" >&2; exit 1; }
BENCH_NAME=full-fashion-mnist
source "$(dirname "${BASH_SOURCE[0]}")/lib/prologue.sh"
WHAT="${1:-all}"
DATA="$(bench_path "${DATA:-/usr/share/datasets/fashion-mnist}")"
EPOCHS="${EPOCHS:-8}"
BATCH="${BATCH:-128}"
BASE_LR="${BASE_LR:-0.5}"
STEPS=$(( EPOCHS * 60000 / BATCH ))
SCHEDULE_STEPS="${SCHEDULE_STEPS:-$STEPS}"
PUBLISH_EVERY="${PUBLISH_EVERY:-500}"
LINEAR_EVERY="${LINEAR_EVERY:-0}"
THREADS="${THREADS:-1}"
NICE="${NICE:-10}"
OUT="$(bench_path "${OUT:-$ROOT/out/full-fashion-mnist}")"
MAIN="${MAIN:-io.siamstream.job.EmbeddedDemo}"

bench_snapshot "$OUT"
export OMP_NUM_THREADS="$THREADS"
java_run() {
  nice -n "$NICE" "${JAVA[@]}" -Xmx6g -Dai.djl.pytorch.num_threads="$THREADS" -Dai.djl.pytorch.num_interop_threads=1 \
    -Dlog4j2.level=WARN -cp "$CP" "$@"
}

# the untrained encoder depends on the encoder options among them (kind, width, pool grid), so the baselines take them too
read -r -a EXTRA <<< "${EXTRA_ARGS:-}"

if [[ "$WHAT" == baseline || "$WHAT" == all ]]; then
  {
    echo "# $(date -u +%FT%TZ) kNN baselines (raw pixels, untrained encoder), the job's evaluation data and classifier"
    java_run io.siamstream.job.KnnBaselines --siamstream.data bundled "${EXTRA[@]}" 2>&1 \
      | grep -E "^(raw-pixel|random-encoder)"
    java_run io.siamstream.job.KnnBaselines --siamstream.data "$DATA" "${EXTRA[@]}" 2>&1 \
      | grep -E "^(raw-pixel|random-encoder)"
  } | tee "$OUT/baseline.txt"
fi

if [[ "$WHAT" == job || "$WHAT" == all ]]; then
  rm -rf "$OUT/steps" "$OUT/reports" "$OUT/dead-letters" "$OUT/checkpoints"
  ARGS=(--siamstream.data "$DATA" --siamstream.source.epochs "$EPOCHS" --siamstream.train.batch-size "$BATCH"
        --siamstream.train.base-lr "$BASE_LR" --siamstream.train.schedule-steps "$SCHEDULE_STEPS"
        --siamstream.train.publish-every "$PUBLISH_EVERY" --siamstream.eval.linear-every "$LINEAR_EVERY"
        --siamstream.train.device cpu --siamstream.output "$OUT")
  ARGS+=("${EXTRA[@]}")
  echo "# $(date -u +%FT%TZ) job: $MAIN ${ARGS[*]} ($STEPS steps, $THREADS thread(s), nice $NICE)" | tee "$OUT/job.log"
  START=$(date +%s)
  java_run "$MAIN" "${ARGS[@]}" 2>&1 | while IFS= read -r line; do
    printf '%6ds %s\n' $(( $(date +%s) - START )) "$line"
  done | tee -a "$OUT/job.log"
  echo "# $(date -u +%FT%TZ) job finished after $(( $(date +%s) - START )) s" | tee -a "$OUT/job.log"
  echo "baselines on $DATA:"
  grep -h "$DATA" "$OUT/baseline.txt" 2>/dev/null || echo "none yet: run bench/full-fashion-mnist.sh baseline"
  echo "kNN of the job's encoders (seconds since start, model version = step):"
  grep 'evaluation of model' "$OUT/job.log" || echo "none"
fi
