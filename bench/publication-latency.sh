#!/usr/bin/env bash
# Publication latency of the real job: for every published model version, from its training step to the committed
# artifact (models/<version>/ appears) to the first committed embedding made with it (a finished part file under
# embeddings/ names it), with RocksDB checkpoints every 10 s as the job sets them (unaligned after 2 s of alignment). io.siamstream.bench.PublicationLatencyBenchmark
# runs training + model artifact sink + embedding operator on a local MiniCluster, feeds the embedder an endless
# paced image stream, and stamps each version's appearance in both folders from a watcher thread. Writes
# bench/results/publication-latency.md (p50/p95 and every version).
#
# Options (environment):
#   VERSIONS       stop once this many versions have a committed embedding  (default: 25)
#   MINUTES        stop after this long at the latest                      (default: 10)
#   PUBLISH_EVERY  training steps between versions                        (default: 20)
#   BATCH          view pairs per training step (ConvNet, Fashion-MNIST)   (default: 32)
#   INTERVAL       checkpoint interval                                    (default: 10s)
#   RATE           images/s on the embedding input                         (default: 50)
#   THREADS        engine intra-op threads (default: 1; the machine is shared)
#   ENCODER        convnet or resnet18_cifar (the paper's heads; a trainer slower than its input, whose checkpoints
#                  turn unaligned; results then go to publication-latency-resnet18_cifar.md)   (default: convnet)
#   WORK           the job's output folder and the raw result   (default: bench/target/publication-latency)
#   RESULTS        folder for publication-latency.md            (default: bench/results)
#   SKIP_BUILD=1   reuses the last build and classpath; OFFLINE=0 lets Maven download (bench/lib/prologue.sh)
# The build packages in this checkout and runs from its target/ folders (no install).
set -euo pipefail
BENCH_NAME=publication-latency
ENCODER="${ENCODER:-convnet}"
case "$ENCODER" in
  convnet) RESULT_FILE=publication-latency.md; ENCODER_TEXT=ConvNet ;;
  resnet18_cifar) RESULT_FILE=publication-latency-resnet18_cifar.md; ENCODER_TEXT="ResNet-18 (CIFAR, paper heads)" ;;
  *) echo "ENCODER='$ENCODER'; allowed: convnet, resnet18_cifar" >&2; exit 2 ;;
esac
source "$(dirname "${BASH_SOURCE[0]}")/lib/prologue.sh"
WORK="$(bench_path "${WORK:-$ROOT/bench/target/publication-latency}")"
THREADS="${THREADS:-1}"
mkdir -p "$WORK"

export OMP_NUM_THREADS="$THREADS"
ROWS="$WORK/result.txt"
rm -f "$ROWS"
"${JAVA[@]}" -Xmx3g -Dai.djl.pytorch.num_threads="$THREADS" -Dlog4j2.level=WARN -cp "$CP" \
    io.siamstream.bench.PublicationLatencyBenchmark --out "$WORK/run" --versions "${VERSIONS:-25}" \
    --minutes "${MINUTES:-10}" --publish-every "${PUBLISH_EVERY:-20}" --batch "${BATCH:-32}" \
    --checkpoint-interval "${INTERVAL:-10s}" --rate "${RATE:-50}" --encoder "$ENCODER" --markdown "$ROWS"

{
  echo "# Publication latency: training step -> committed artifact -> first committed embedding"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(getconf _NPROCESSORS_ONLN) cores, $THREADS engine thread(s)."
  echo "Command: \`VERSIONS=${VERSIONS:-25} PUBLISH_EVERY=${PUBLISH_EVERY:-20} BATCH=${BATCH:-32} INTERVAL=${INTERVAL:-10s}"\
       "RATE=${RATE:-50} THREADS=$THREADS ENCODER=$ENCODER bash bench/publication-latency.sh\`."
  echo "The job: $ENCODER_TEXT on the bundled Fashion-MNIST sample (endless replay), SimSiam, a version every ${PUBLISH_EVERY:-20}"
  echo "steps, evaluation off; the embedding operator (batch 256, max delay 200 ms) on ${RATE:-50} images/s of the"
  echo "bundled test images, endlessly; exactly-once file sinks; RocksDB incremental, checkpoints (the job's defaults) every"
  echo "${INTERVAL:-10s} (min pause 0), on a local MiniCluster. Stamps: the step = model.json's wall_time_ms (the trainer's"
  echo "clock at publication); visible = the watcher (same JVM, polling every 20 ms) first lists models/<version>/;"
  echo "embedded = it first reads a committed embeddings/ part file naming the version."
  echo
  grep '^HEADER ' "$ROWS" | sed 's/^HEADER //'
  echo
  echo "| latency (s) | versions | p50 | p95 | min | max |"
  echo "|---|---|---|---|---|---|"
  grep '^SUMMARY ' "$ROWS" | sed 's/^SUMMARY //'
  echo
  echo "Every version (t = the step's time since the job was submitted; empty: no embedding was made with it):"
  echo
  echo "| version | t (s) | step -> visible (s) | visible -> embedding (s) | step -> embedding (s) |"
  echo "|---|---|---|---|---|"
  grep '^VERSION ' "$ROWS" | sed 's/^VERSION //'
} >"$RESULTS/$RESULT_FILE"
cat "$RESULTS/$RESULT_FILE"
