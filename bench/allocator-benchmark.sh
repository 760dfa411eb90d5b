#!/usr/bin/env bash
# The C allocator under the learner: the bare learner's training step (io.siamstream.bench.JobThroughputBenchmark
# --modes bare: ConvNet, batch 128, the pre-made views) in a fresh JVM per allocator setting, the settings alternated
# round by round in one run:
#   glibc-default     glibc with its own defaults (what `java` gets on a plain machine)
#   glibc-pom         glibc with pom.xml's siamstream.glibc.tunables (what the demo, the tests and bench/ get)
#   jemalloc-default  jemalloc preloaded with its own defaults (what Flink's official image gets)
#   jemalloc-pom      jemalloc with pom.xml's siamstream.jemalloc.conf (what k8s/Dockerfile* get)
# Each run reports pairs/s, the JVM's CPU per step, the kernel's share of it and the minor page faults per step
# (/proc/self/stat): a fault is a page the kernel maps and zeroes on first touch.
#
# usage: bench/allocator-benchmark.sh   -> bench/results/allocator-benchmark.md
# Options (environment): ROUNDS (3), STEPS (60), WARMUP (10), BATCH (128), MODEL (convnet|resnet18), MODES (bare; any
#   of JobThroughputBenchmark's, e.g. bare,job-ckpt-unaligned), SETTINGS (the four above, comma-separated), THREADS,
#   SKIP_BUILD=1, RESULTS, OFFLINE=0 (bench/lib/prologue.sh). jemalloc comes from Debian's libjemalloc2.
set -euo pipefail
BENCH_NAME=allocator-benchmark
ALLOCATOR_SETTINGS=default  # this script sets each run's allocator itself
source "$(dirname "${BASH_SOURCE[0]}")/lib/prologue.sh"

JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
TUNABLES="$POM_GLIBC_TUNABLES"
JE_CONF="$POM_MALLOC_CONF"
IFS=, read -r -a SETTINGS <<<"${SETTINGS:-glibc-default,glibc-pom,jemalloc-default,jemalloc-pom}"
for s in "${SETTINGS[@]}"; do
  case "$s" in
    glibc-default|glibc-pom) ;;
    jemalloc-default|jemalloc-pom) [[ -f "$JEMALLOC" ]] || die "$JEMALLOC is missing: apt-get install libjemalloc2" ;;
    *) die "SETTINGS: '$s' is not allowed; allowed: glibc-default, glibc-pom, jemalloc-default, jemalloc-pom" ;;
  esac
done
THREAD_FLAG=()
if [[ -n "${THREADS:-}" ]]; then THREAD_FLAG=(-Dai.djl.pytorch.num_threads="$THREADS"); export OMP_NUM_THREADS="$THREADS"; fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
ROUNDS="${ROUNDS:-3}"
for ((round = 1; round <= ROUNDS; round++)); do
  for s in "${SETTINGS[@]}"; do
    env=(env -u GLIBC_TUNABLES -u MALLOC_CONF -u LD_PRELOAD)
    case "$s" in
      glibc-pom) env+=(GLIBC_TUNABLES="$TUNABLES") ;;
      jemalloc-default) env+=(LD_PRELOAD="$JEMALLOC") ;;
      jemalloc-pom) env+=(LD_PRELOAD="$JEMALLOC" MALLOC_CONF="$JE_CONF") ;;
    esac
    echo "$BENCH_NAME: round $round, $s" >&2
    "${env[@]}" "${JAVA[@]}" -Xmx6g "${THREAD_FLAG[@]}" -cp "$CP" io.siamstream.bench.JobThroughputBenchmark \
        --model "${MODEL:-convnet}" --batch "${BATCH:-128}" --warmup "${WARMUP:-10}" --steps "${STEPS:-60}" \
        --rounds 1 --modes "${MODES:-bare}" --markdown "$WORK/$s-$round.md" >/dev/null
    # the run's rows: | round | mode | pairs/s | step ms | busy | CPU ms/step | kernel share | faults/step | ...
    awk -v s="$s" -v r="$round" -F'|' '$2 ~ /^ *1 *$/ && $3 !~ /run/ {
        gsub(/ /, "", $3); printf "%s|%d|%s|%s|%s|%s|%s|%s\n", s, r, $3, $4, $5, $7, $8, $9 }' \
        "$WORK/$s-$round.md" >>"$WORK/rows"
  done
done

OUT="$RESULTS/allocator-benchmark.md"
{
  echo "# The C allocator under the learner"
  echo
  echo "Command: \`bash bench/allocator-benchmark.sh\` ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores; ${MODEL:-convnet}," \
       "batch ${BATCH:-128}, ${WARMUP:-10} warm-up + ${STEPS:-60} timed steps per run, $ROUNDS round(s) of" \
       "${SETTINGS[*]}, a fresh JVM per run; modes ${MODES:-bare})."
  echo
  echo "glibc-pom: GLIBC_TUNABLES=$TUNABLES"
  echo
  echo "jemalloc-pom: MALLOC_CONF=$JE_CONF"
  echo
  echo "| round | setting | mode | pairs/s | median step ms | JVM CPU ms per step | kernel share of it | minor page faults per step |"
  echo "|---|---|---|---|---|---|---|---|"
  awk -F'|' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, $1, $3, $4, $5, $6, $7, $8 }' "$WORK/rows"
  echo
  echo "| setting / glibc-default, per mode: median of per-round pairs/s ratios (min - max) | |"
  echo "|---|---|"
  awk -F'|' '
    { v[$1 "|" $3 "|" $2] = $4 + 0; modes[$3] = 1; settings[$1] = 1; if ($2 > rounds) rounds = $2 }
    function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                   return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    END {
      for (m in modes) for (s in settings) {
        if (s == "glibc-default") continue
        n = 0; lo = 1e9; hi = 0
        for (r = 1; r <= rounds; r++) {
          a = v[s "|" m "|" r]; b = v["glibc-default|" m "|" r]
          if (a > 0 && b > 0) { x[++n] = a / b; if (a / b < lo) lo = a / b; if (a / b > hi) hi = a / b }
        }
        if (n > 0) printf "| %s, %s | **%.3f** (%.3f - %.3f) |\n", s, m, med(x, n), lo, hi
      }
    }' "$WORK/rows" | sort
} >"$OUT"
cat "$OUT"
