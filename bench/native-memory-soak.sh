#!/usr/bin/env bash
# Native memory over a long run: live NDArray counts and resident memory every 100 steps of SimSiam training
# (small ConvNet, bundled sample). Exits non-zero if the array counts move or RSS grows > 64 MiB in the second half.
# usage: bench/native-memory-soak.sh [steps=2000] [batch=64]
# Options (environment): RESULTS (folder for native-memory-soak.md, default bench/results), SKIP_BUILD=1, OFFLINE=0
# (bench/lib/prologue.sh)
set -euo pipefail
BENCH_NAME=native-memory-soak
source "$(dirname "${BASH_SOURCE[0]}")/lib/prologue.sh"
"${JAVA[@]}" -Xmx2g -cp "$CP" io.siamstream.bench.NativeMemorySoak "${1:-2000}" "${2:-64}" 100 64 \
  | tee "$RESULTS/native-memory-soak.md"
