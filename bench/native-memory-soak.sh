#!/usr/bin/env bash
# Native memory over a long run: live NDArray counts and resident memory every 100 steps of SimSiam training
# (small ConvNet, bundled sample). Exits non-zero if the array counts move or RSS grows > 64 MiB in the second half.
# usage: bench/native-memory-soak.sh [steps=2000] [batch=64]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B install -DskipTests
mvn -q -B dependency:build-classpath -pl job -Dmdep.outputFile=job/target/soak.classpath
mkdir -p bench/results
java -Xmx2g -Dai.djl.offline=true -DOPT_OUT_TRACKING=true \
  -cp "job/target/classes:$(cat job/target/soak.classpath)" \
  io.siamstream.bench.NativeMemorySoak "${1:-2000}" "${2:-64}" 100 64 | tee bench/results/native-memory-soak.md
