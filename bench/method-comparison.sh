#!/usr/bin/env bash
# SimSiam, BYOL, SimCLR and MoCo v2 on Fashion-MNIST with the same budget (io.siamstream.bench.MethodComparison):
# kNN and linear-probe top-1, pairs/s and checkpoint state size; writes $RESULTS/method-comparison.md.
# Usage: bash bench/method-comparison.sh [steps=300] [batch=64] [data=bundled|/usr/share/datasets/fashion-mnist]
#   [methods=simsiam,byol,simclr,moco]
# Options (environment): RESULTS (default bench/results), SKIP_BUILD=1, OFFLINE=0 (bench/lib/prologue.sh)
set -euo pipefail
BENCH_NAME=method-comparison
source "$(dirname "${BASH_SOURCE[0]}")/lib/prologue.sh"
DATA="${3:-bundled}"
[[ "$DATA" == bundled ]] || DATA="$(bench_path "$DATA")"
"${JAVA[@]}" -Xmx4g -cp "$CP" io.siamstream.bench.MethodComparison "${1:-300}" "${2:-64}" "$DATA" \
    "$RESULTS/method-comparison.md" ${4:+"$4"}
