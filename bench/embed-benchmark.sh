#!/usr/bin/env bash
# Embeddings/s on one core: siamstream's embedding path (ImageEmbedder on a committed artifact read by
# CommittedArtifactLoader, as the EmbeddingOperator runs it) against plain PyTorch inference (eval mode, no_grad;
# bench/pytorch_embed.py) on the same artifact, images and batches. io.siamstream.bench.EmbedBenchmark drives the
# Python peer as a child process, so the two sides alternate round by round in one run; it reports each round's
# images/s, their ratio, the CPU share other processes used, and the max abs difference of the two sides' features
# on one batch. Writes bench/results/embed-benchmark.md.
#
# Options (environment):
#   MODELS   models to run                          (default: "convnet resnet18")
#   BATCH    images per forward pass                (default: 256, the operator's default)
#   ROUNDS   timed rounds per side                  (default: 9)
#   BATCHES  batches per round                      (default: 4 for convnet, 1 for the ResNets)
#   WARMUP   untimed rounds per side before timing  (default: 1)
#   PYTHON   the PyTorch peer's interpreter         (default: /usr/bin/python3, Debian's python3-torch)
#   RESULTS  folder for embed-benchmark.md     (default: bench/results)
#   SKIP_BUILD=1 reuses the last build and classpath; OFFLINE=0 lets Maven download (bench/lib/prologue.sh)
# One intra-op thread per side (OMP_NUM_THREADS=1, -Dai.djl.pytorch.num_threads=1, torch.set_num_threads(1)): the
# goal is per core. The build packages in this checkout and runs from its target/ folders (no install).
set -euo pipefail
BENCH_NAME=embed-benchmark
source "$(dirname "${BASH_SOURCE[0]}")/lib/prologue.sh"

MODELS="${MODELS:-convnet resnet18}"
BATCH="${BATCH:-256}"
ROUNDS="${ROUNDS:-9}"
WARMUP="${WARMUP:-1}"
PYTHON="${PYTHON:-/usr/bin/python3}"
if [[ "$PYTHON" == /usr/bin/python3 ]]; then bench_require_fast_blas; fi
WORK="$ROOT/bench/target/embed-benchmark"
mkdir -p "$WORK"
"$PYTHON" -c 'import torch, numpy' 2>/dev/null || die "$PYTHON has no torch: apt-get install -y python3-torch"

export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
ROWS="$WORK/rows.md"
rm -f "$ROWS"
for model in $MODELS; do
  if [[ -n "${BATCHES:-}" ]]; then batches="$BATCHES"; elif [[ "$model" == convnet ]]; then batches=4; else batches=1; fi
  echo "embed-benchmark: $model, batch $BATCH, $ROUNDS rounds of $batches batches per side (+$WARMUP warm-up)" >&2
  "${JAVA[@]}" -Xmx4g -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1 -Dlog4j2.level=WARN \
      -cp "$CP" io.siamstream.bench.EmbedBenchmark "$model" \
      --batch "$BATCH" --rounds "$ROUNDS" --batches "$batches" --warmup "$WARMUP" --work "$WORK" \
      --python "$PYTHON" --markdown "$ROWS" \
    || die "the run failed for $model"
done

{
  echo "# Embeddings/s on one core: siamstream's ImageEmbedder vs plain PyTorch inference"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(getconf _NPROCESSORS_ONLN) cores, load average (1, 5, 15 min) before the run: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Command: \`MODELS=\"$MODELS\" BATCH=$BATCH ROUNDS=$ROUNDS${BATCHES:+ BATCHES=$BATCHES} bash bench/embed-benchmark.sh\`."
  echo "One intra-op thread each side. DJL: $(grep -m1 -o 'pytorch-native-cpu/[^/]*' "$BENCH_CP_FILE" | sed 's#.*/#libtorch #' || true)"
  echo "via DJL 0.35.1; PyTorch: $("$PYTHON" -c 'import torch; print(torch.__version__)') ($PYTHON), eval() and no_grad()."
  echo "Both sides: the same committed artifact (2 training steps, written by ModelArtifacts), the same 8-bit images,"
  echo "the same batches in the same order; timed from 8-bit pixels (normalisation included) to features on the heap."
  echo
  echo "Two rates per side: images per second of wall-clock time, and images per CPU-second of the side's own process"
  echo "(the per-core rate; other processes time-slicing the core lower the first, hardly the second). Ratios are the"
  echo "median of the per-round ratios."
  echo
  echo "| model | batch | rounds x batches | Java images/s | PyTorch images/s | ratio, wall (min - max) | Java images/CPU-s | PyTorch images/CPU-s | ratio, CPU (min - max) | max abs diff, batch 0 |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  grep '^SUMMARY ' "$ROWS" | sed 's/^SUMMARY //'
  echo
  echo "Where a batch's time goes (median ms per batch, each part timed alone after the rounds): normalisation of the"
  echo "8-bit pixels, and the encoder's forward pass with the copies in and out (Java: FrozenEncoder.embed)."
  echo
  echo "| model | batch | Java normalise ms | Java forward ms | PyTorch normalise ms | PyTorch forward ms |"
  echo "|---|---|---|---|---|---|"
  grep '^PARTS ' "$ROWS" | sed 's/^PARTS //'
  echo
  echo "Each round, alternating (other load = CPU share of the whole machine used by processes other than the two sides;"
  echo "the calling thread's share of the Java process's CPU: libtorch with one intra-op thread computes there, the"
  echo "rest is the JVM's own threads, GC and JIT):"
  echo
  echo "| model | batch | round | Java images/s | PyTorch images/s | ratio, wall | Java images/CPU-s | PyTorch images/CPU-s | ratio, CPU | Java CPU on the calling thread | other load, Java round | other load, PyTorch round |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  grep -v '^SUMMARY \|^PARTS ' "$ROWS"
} >"$RESULTS/embed-benchmark.md"
cat "$RESULTS/embed-benchmark.md"
echo "embed-benchmark: written to $RESULTS/embed-benchmark.md" >&2
