#!/usr/bin/env bash
# Soak: the real streaming job (SiamstreamJob.build with the replay source and the exactly-once file sinks, RocksDB
# with incremental checkpoints and the job's checkpoint defaults (unaligned after a 2-s alignment timeout), on a MiniCluster in one JVM) for STEPS steps: ConvNet,
# batch 64, endless replay of the bundled Fashion-MNIST sample, a checkpoint every 10 s, a task failure injected about
# every 2,000 steps, an evaluation every 500 steps (no linear probe) (io.siamstream.bench.StreamingSoak). Samples over
# time: steps/s, resident memory, the trainer's nativeArrays and lr gauges (Flink metrics, read in-process), restarts,
# the latest checkpoint's duration and sizes (Flink's statistics) and the bytes under the checkpoint directory's
# shared/ and latest chk-*. At the end: every step 1..STEPS exactly once in the committed steps/ files, and the lr
# committed for the last step (> 0: an endless stream's schedule must not reach 0). Exit status 1 if a check fails,
# 2 if the job failed or the run timed out; the report is written either way.
#
# usage: bench/soak.sh [extra StreamingSoak args, e.g. --siamstream.train.schedule-steps 20000]
# Options (environment):
#   STEPS (10000)              steps to commit
#   FAIL_EVERY (2000)          steps between injected failures (0: none)
#   CHECKPOINT_INTERVAL (10s)  checkpoint interval (the pause between checkpoints is 0, so this is the cadence)
#   SAMPLE_EVERY (30s)         sampling period; REPORT_EVERY (1000): steps between the report's rows (CSV: all samples)
#   BATCH (64), PUBLISH_EVERY (500), LINEAR_EVERY (0)   the job's batch size, evaluation period, linear-probe period
#   THREADS                    PyTorch intra-op threads (default: DJL's, the number of cores)
#   NICE (10)                  niceness of the JVM; MAX_MINUTES (300): give up after this long
#   ALLOCATOR (jemalloc)       jemalloc (preloaded from Debian's libjemalloc2, as the official Flink image runs its
#                              JVMs) or glibc. With glibc's malloc, native memory grew by 0.1-0.45 GiB at every
#                              in-JVM restart (new task threads, arenas); with jemalloc it stayed flat
#                              (bench/results/soak-alloc-*.md)
#   NAME (soak)                results: $RESULTS/$NAME.md and $NAME.csv (RESULTS default: bench/results)
#   OUT (out/$NAME)            the job's output; relative to the directory the script is started in, or absolute
#   SKIP_BUILD=1               use the last build; OFFLINE=0 lets Maven download; JAVA_OPTS: extra JVM flags
# Builds with the reactor (bench/lib/prologue.sh: package, never install: the siamstream jars come from this
# checkout's target/ folders) and copies them to $OUT/lib, so a rebuild during the run does not change the code under
# it.
# Short harness check: STEPS=400 FAIL_EVERY=150 CHECKPOINT_INTERVAL=5s SAMPLE_EVERY=10s REPORT_EVERY=100 \
#   NAME=soak-short bash bench/soak.sh
set -euo pipefail
BENCH_NAME=soak
source "$(dirname "${BASH_SOURCE[0]}")/lib/prologue.sh"
STEPS="${STEPS:-10000}"
FAIL_EVERY="${FAIL_EVERY:-2000}"
CHECKPOINT_INTERVAL="${CHECKPOINT_INTERVAL:-10s}"
SAMPLE_EVERY="${SAMPLE_EVERY:-30s}"
REPORT_EVERY="${REPORT_EVERY:-1000}"
BATCH="${BATCH:-64}"
PUBLISH_EVERY="${PUBLISH_EVERY:-500}"
LINEAR_EVERY="${LINEAR_EVERY:-0}"
NICE="${NICE:-10}"
MAX_MINUTES="${MAX_MINUTES:-300}"
NAME="${NAME:-soak}"
OUT="$(bench_path "${OUT:-$ROOT/out/$NAME}")"
bench_snapshot "$OUT"

THREAD_FLAG=()
if [[ -n "${THREADS:-}" ]]; then THREAD_FLAG=(-Dai.djl.pytorch.num_threads="$THREADS"); export OMP_NUM_THREADS="$THREADS"; fi

ARGS=(--steps "$STEPS" --fail-every "$FAIL_EVERY" --checkpoint-interval "$CHECKPOINT_INTERVAL"
      --sample-every "$SAMPLE_EVERY" --report-every "$REPORT_EVERY" --max-minutes "$MAX_MINUTES"
      --out "$OUT" --markdown "$RESULTS/$NAME.md" --csv "$RESULTS/$NAME.csv"
      --siamstream.train.batch-size "$BATCH" --siamstream.train.publish-every "$PUBLISH_EVERY"
      --siamstream.eval.linear-every "$LINEAR_EVERY" "$@")
ALLOCATOR="${ALLOCATOR:-jemalloc}"
PRELOAD=()
case "$ALLOCATOR" in
  jemalloc)
    JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
    [[ -f "$JEMALLOC" ]] || { echo "soak: $JEMALLOC is missing: apt-get install libjemalloc2, or ALLOCATOR=glibc" >&2; exit 1; }
    PRELOAD=(env "LD_PRELOAD=$JEMALLOC") ;;
  glibc) ;;
  *) echo "soak: ALLOCATOR=$ALLOCATOR is not allowed; allowed: jemalloc, glibc" >&2; exit 1 ;;
esac
export ALLOCATOR
COMMAND="$(env | grep -E '^(STEPS|FAIL_EVERY|CHECKPOINT_INTERVAL|SAMPLE_EVERY|REPORT_EVERY|BATCH|PUBLISH_EVERY|LINEAR_EVERY|THREADS|NICE|MAX_MINUTES|NAME|OUT|ALLOCATOR|MALLOC_CONF|GLIBC_TUNABLES)=' \
  | sort | tr '\n' ' ')bash bench/soak.sh${*:+ $*}"
echo "# $(date -u +%FT%TZ) soak: $COMMAND" >&2
# shellcheck disable=SC2086
"${PRELOAD[@]}" nice -n "$NICE" "${JAVA[@]}" -Xmx4g ${JAVA_OPTS:-} "${THREAD_FLAG[@]}" -Dlog4j2.level=WARN -cp "$CP" \
  io.siamstream.bench.StreamingSoak "${ARGS[@]}" --command "$COMMAND"
