#!/usr/bin/env bash
# SimSiam, BYOL, SimCLR and MoCo v2 on Fashion-MNIST with the same budget (io.siamstream.bench.MethodComparison):
# kNN and linear-probe top-1, pairs/s and checkpoint state size; writes bench/results/method-comparison.md.
# Usage: bash bench/method-comparison.sh [steps=300] [batch=64] [data=bundled|/usr/share/datasets/fashion-mnist]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mvn -B -ntp -q install -DskipTests
mvn -B -ntp -q -pl job exec:exec -Ddemo.mainClass=io.siamstream.bench.MethodComparison \
    -Ddemo.args="${1:-300} ${2:-64} ${3:-bundled} $ROOT/bench/results/method-comparison.md"
