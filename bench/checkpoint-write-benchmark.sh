#!/usr/bin/env bash
# What writing a ResNet-18 learner's checkpoint file (185 MB) costs the writing thread's CPU, right after the page cache
# of the previous one was freed and one checkpoint interval later (io.siamstream.bench.CheckpointWriteBenchmark), the
# waits alternated write by write. On a virtual machine that reports free memory to its host, a later write can fault
# its page cache in from the host again, on the writing thread's CPU.
#
# usage: bench/checkpoint-write-benchmark.sh   -> bench/results/checkpoint-write.md
# Options (environment): DIR (where the files go; default the system's temporary folder, where the job benchmark's
#   checkpoints go), MB (185), CHUNK_MB (4), WAITS (0s,1s,10s), ROUNDS (6), SKIP_BUILD=1, RESULTS, OFFLINE=0
#   (bench/lib/prologue.sh).
set -euo pipefail
BENCH_NAME=checkpoint-write-benchmark
source "$(dirname "${BASH_SOURCE[0]}")/lib/prologue.sh"

# the options set, for the results' command line
settings=""
for v in DIR MB CHUNK_MB WAITS ROUNDS; do
  if [[ -n "${!v:-}" ]]; then settings+="$v=${!v} "; fi
done
DIR="$(bench_path "${DIR:-${TMPDIR:-/tmp}}")"
OUT="$RESULTS/checkpoint-write.md"
"${JAVA[@]}" -Xms1g -Xmx1g -cp "$CP" io.siamstream.bench.CheckpointWriteBenchmark "$DIR" --mb "${MB:-185}" \
    --chunk-mb "${CHUNK_MB:-4}" --waits "${WAITS:-0s,1s,10s}" --rounds "${ROUNDS:-6}" --markdown "$OUT.table"
{
  echo "# Writing a learner's checkpoint file: the writer's CPU against the age of the freed page cache"
  echo
  echo "Command: \`${settings}bash bench/checkpoint-write-benchmark.sh\` (io.siamstream.bench.CheckpointWriteBenchmark)."
  echo
  cat "$OUT.table"
} >"$OUT"
rm -f "$OUT.table"
echo "$BENCH_NAME: wrote $OUT" >&2
