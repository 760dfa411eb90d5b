#!/usr/bin/env bash
# The job benchmark's sequence (a bare learner, then the streaming job with checkpoints, in one JVM, round after
# round) under AddressSanitizer's allocator: libasan is preloaded, so every malloc and free of the JVM, libtorch and
# DJL's JNI library goes through it. It keeps freed memory out of reuse for a while (quarantine) and stops the process
# at a double or invalid free, reporting the stacks of both frees and of the allocation. Nothing here is compiled with
# ASan, so it does not see a stray read or write into freed memory, only what passes through malloc and free.
# Why it exists: one job run crashed once in libtorch (bench/results/native-crash.md says how and what is known).
#
# Options (environment):
#   MODEL     convnet or resnet18   (default: resnet18)
#   BATCH     view pairs per step   (default: 32)
#   STEPS     timed steps per run   (default: 30; a ResNet-18 step takes about 8 s under ASan on 2 cores)
#   ROUNDS    rounds of [job, bare] after one warm-up round   (default: 3)
#   LIBASAN   (default: /usr/lib/x86_64-linux-gnu/libasan.so.8, Debian's libasan8)
#   WORK      the log and ASan's reports   (default: bench/target/asan-job)
#   RESULTS   folder for asan-job.md       (default: bench/results)
#   SKIP_BUILD=1, OFFLINE=0: bench/lib/prologue.sh
# Exit status 1 when ASan reported something (its reports are in WORK/asan.*).
set -euo pipefail
BENCH_NAME=asan-job
MODEL="${MODEL:-resnet18}"
case "$MODEL" in
  convnet|resnet18) ;;
  *) echo "MODEL='$MODEL'; allowed: convnet, resnet18" >&2; exit 2 ;;
esac
LIBASAN="${LIBASAN:-/usr/lib/x86_64-linux-gnu/libasan.so.8}"
[[ -f "$LIBASAN" ]] || { echo "asan-job: no $LIBASAN (apt-get install libasan8)" >&2; exit 2; }
source "$(dirname "${BASH_SOURCE[0]}")/lib/prologue.sh"
WORK="$(bench_path "${WORK:-$ROOT/bench/target/asan-job}")"
rm -rf "$WORK"
mkdir -p "$WORK"
BATCH="${BATCH:-32}" STEPS="${STEPS:-30}" ROUNDS="${ROUNDS:-3}"

# The JVM handles SIGSEGV itself (null checks, safepoints): ASan must leave the signals alone. Leak checking would
# report every arena the JVM never frees. The quarantine holds 2 GiB of freed memory before any of it is reused.
export ASAN_OPTIONS="detect_leaks=0:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:\
allow_user_segv_handler=1:use_sigaltstack=0:fast_unwind_on_malloc=0:malloc_context_size=25:quarantine_size_mb=2048:\
detect_odr_violation=0:verify_asan_link_order=0:alloc_dealloc_mismatch=0:new_delete_type_mismatch=0:halt_on_error=1:\
log_path=$WORK/asan"
start="$(date -u '+%Y-%m-%d %H:%M')"
set +e
LD_PRELOAD="$LIBASAN" "${JAVA[@]}" -Xmx6g -cp "$CP" io.siamstream.bench.JobThroughputBenchmark --model "$MODEL" \
    --batch "$BATCH" --warmup 5 --warmup-checkpoints 2 --steps "$STEPS" --rounds "$ROUNDS" --warmup-rounds 1 \
    --background-niceness 19 --modes job-ckpt-unaligned,bare --checkpoint-interval 10s \
    --markdown "$WORK/benchmark.md" >"$WORK/run.log" 2>&1
rc=$?
set -e
reports=("$WORK"/asan.*)
[[ -e "${reports[0]}" ]] || reports=()
runs="$(grep -c '^job-benchmark: round .*pairs/s' "$WORK/run.log" || true)"
{
  echo "# The job under AddressSanitizer's allocator"
  echo
  echo "$start - $(date -u '+%H:%M UTC'), $(getconf _NPROCESSORS_ONLN) cores. Command: \`MODEL=$MODEL BATCH=$BATCH"\
       "STEPS=$STEPS ROUNDS=$ROUNDS bash bench/asan-job.sh\`; LD_PRELOAD=$(basename "$LIBASAN")."
  echo
  echo "- JVM exit status: $rc; runs that finished (warm-up round included): $runs"
  if ((${#reports[@]})); then
    echo "- **ASan reported** (first lines of each report):"
    for r in "${reports[@]}"; do
      echo
      echo '```'
      head -40 "$r"
      echo '```'
    done
  else
    echo "- ASan reported nothing: no double free, no free of memory malloc did not hand out."
  fi
} >"$RESULTS/asan-job.md"
cat "$RESULTS/asan-job.md"
((${#reports[@]} == 0 && rc == 0))
