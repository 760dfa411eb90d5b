#!/usr/bin/env bash
# Augmentation throughput on ONE core: siamstream's pure-Java view policies (io.siamstream.bench.AugmentBenchmark,
# one thread) against the equivalent torchvision transform pipeline on tensors (bench/torchvision_views.py,
# torch.set_num_threads(1), OMP_NUM_THREADS=1), for the SimSiam (with blur) and BYOL view-1/view-2 policies at
# 28x28x1, 32x32x3 and 224x224x3 (from 256x256 sources). The Java side writes the seeded random 8-bit source images
# and each cell's policy parameters to a work folder; the Python side reads both, so the inputs and parameters are
# identical. Both sides include the uint8 -> float decode and the normalisation in every view.
# Prints a markdown table (also written to bench/results/augment-benchmark.md).
#
# Options (environment):
#   SECONDS_PER_CELL  timed seconds per cell, in 5 windows; the median window is reported (default: 3)
#   WARMUP            untimed warm-up seconds per cell (default: 1.5)
#   ONLY              comma-separated POLICY/SIZE cells, e.g. "simsiam/224x224x3" (default: all 9)
#   CPU               the core both sides are pinned to with taskset (default: the last core; "none" = no pinning)
#   PROFILE=1         also time every op in isolation at each size on both sides
#                     (table written to bench/results/augment-profile.md)
#   PYTHON            the torchvision peer's interpreter (default: /usr/bin/python3, Debian's python3-torchvision)
#   RESULTS           folder for the tables (default: bench/results)
#   SKIP_BUILD=1      reuses the last build and classpath; OFFLINE=0 lets Maven download (bench/lib/prologue.sh)
set -euo pipefail
BENCH_NAME=augment-benchmark
source "$(dirname "${BASH_SOURCE[0]}")/lib/prologue.sh"

SECONDS_PER_CELL="${SECONDS_PER_CELL:-3}"
WARMUP="${WARMUP:-1.5}"
ONLY="${ONLY:-}"
PYTHON="${PYTHON:-/usr/bin/python3}"
NPROC="$(nproc --all)"
CPU="${CPU:-$(( NPROC - 1 ))}"

"$PYTHON" -c 'import torchvision' 2>/dev/null \
  || die "$PYTHON has no torchvision: apt-get install -y python3-torchvision"

PIN=()
if [[ "$CPU" != none ]]; then
  command -v taskset >/dev/null || die "taskset not found (install util-linux) or set CPU=none"
  PIN=(taskset -c "$CPU")
fi
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
ARGS=(--seconds "$SECONDS_PER_CELL" --warmup "$WARMUP")
JAVA+=(-Xmx2g -cp "$CP" io.siamstream.bench.AugmentBenchmark "$WORK")

ALL_CELLS="simsiam/28x28x1 byol-view1/28x28x1 byol-view2/28x28x1 simsiam/32x32x3 byol-view1/32x32x3 byol-view2/32x32x3"
ALL_CELLS+=" simsiam/224x224x3 byol-view1/224x224x3 byol-view2/224x224x3"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
# Cells run one after the other, each first in Java (a fresh JVM) then in torchvision, so that a change in the
# machine's other load hits both sides of a cell alike.
java_out=""
tv_out=""
CELLS="${ONLY:-$ALL_CELLS}"
for cell in ${CELLS//,/ }; do
  echo "augment-benchmark: $cell: $WARMUP s warm-up + $SECONDS_PER_CELL s, 1 thread${PIN:+, pinned to core $CPU}" >&2
  j="$("${PIN[@]}" "${JAVA[@]}" "${ARGS[@]}" --only "$cell")" || die "the Java run failed for $cell"
  j="$(grep '^{' <<<"$j")" || die "no result line from the Java run for $cell"
  echo "  $j" >&2
  t="$("${PIN[@]}" "$PYTHON" "$ROOT/bench/torchvision_views.py" "$WORK" "${ARGS[@]}" --only "$cell")" \
    || die "the torchvision run failed for $cell"
  t="$(grep '^{' <<<"$t")" || die "no result line from the torchvision run for $cell"
  echo "  $t" >&2
  java_out+="$j"$'\n'
  tv_out+="$t"$'\n'
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

# join the two sides' JSON lines into markdown rows
TABLE="$("$PYTHON" - "$java_out" "$tv_out" <<'EOF'
import json, sys
def rows(text):
    return [json.loads(l) for l in text.splitlines() if l.startswith("{")]
java = {(r["policy"], r["size"]): r for r in rows(sys.argv[1])}
tv = {(r["policy"], r["size"]): r for r in rows(sys.argv[2])}
src = {"28x28x1": "source 28x28", "32x32x3": "source 32x32", "224x224x3": "source 256x256"}
print("| policy | size | Java views/s | torchvision views/s | ratio (Java/torchvision) |")
print("|---|---|---|---|---|")
for key, j in java.items():
    t = tv.get(key)
    if t is None:
        sys.exit(f"no torchvision result for {key}")
    ratio = j["views_per_s"] / t["views_per_s"]
    print(f"| {key[0]} | {key[1]} ({src.get(key[1], '?')}, blur k={j['blur_kernel']}) | {j['views_per_s']:.0f} "
          f"| {t['views_per_s']:.0f} | {ratio:.2f} |")
EOF
)" || die "could not join the results"

{
  echo "# Augmentation throughput per core: siamstream (Java) vs torchvision"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $NPROC cores, both sides one thread${PIN:+ pinned to core $CPU};" \
       "$(java -version 2>&1 | head -1 | tr -d '"');" \
       "$("$PYTHON" -c 'import torch, torchvision; print(f"torch {torch.__version__}, torchvision {torchvision.__version__}")')."
  echo "Views/s = median of 5 windows over $SECONDS_PER_CELL s after $WARMUP s warm-up; every view decodes a seeded random"
  echo "uint8 source image to float, applies the policy (crop, jitter, grayscale, blur, solarize, flip) and normalises."
  echo "simsiam = ViewPolicies.simSiam (blur p 0.5), byol-view1/2 = ViewPolicies.byolView1/2; torchvision composes"
  echo "the same v1 transforms with the same parameters (bench/torchvision_views.py). Load average of the machine"
  echo "(other processes included) before / after: $LOAD_BEFORE / $LOAD_AFTER."
  echo
  echo "$TABLE"
} >"$RESULTS/augment-benchmark.md"
echo "$TABLE"
echo "augment-benchmark: table written to $RESULTS/augment-benchmark.md" >&2

if [[ "${PROFILE:-0}" == 1 ]]; then
  echo "augment-benchmark: profiling each op in isolation" >&2
  PARGS=(--profile --seconds 1.5 --warmup 1)
  [[ -n "$ONLY" ]] && PARGS+=(--only "$ONLY")
  jp="$("${PIN[@]}" "${JAVA[@]}" "${PARGS[@]}")" || die "the Java profile failed"
  tp="$("${PIN[@]}" "$PYTHON" "$ROOT/bench/torchvision_views.py" "$WORK" "${PARGS[@]}")" || die "the torchvision profile failed"
  PTABLE="$("$PYTHON" - "$jp" "$tp" <<'EOF'
import json, sys
def rows(text):
    return [json.loads(l) for l in text.splitlines() if l.startswith("{")]
tv = {(r["size"], r["op"]): r for r in rows(sys.argv[2])}
print("| size | op | Java us/call | torchvision us/call | ratio (Java time / torchvision time) |")
print("|---|---|---|---|---|")
for j in rows(sys.argv[1]):
    t = tv.get((j["size"], j["op"]))
    tu = t["us_per_call"] if t else float("nan")
    print(f"| {j['size']} | {j['op']} | {j['us_per_call']:.2f} | {tu:.2f} | {j['us_per_call'] / tu:.2f} |")
EOF
)" || die "could not join the profiles"
  {
    echo "# Augmentation ops in isolation: siamstream (Java) vs torchvision, one thread"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'); op inputs: decode = one source image; resized_crop = a centred crop of half"
    echo "the source area to the output size; the others on one output-size image (hue 0.05, factors 1.2, blur sigma 1)."
    echo
    echo "$PTABLE"
  } >"$RESULTS/augment-profile.md"
  echo "$PTABLE"
  echo "augment-benchmark: profile written to $RESULTS/augment-profile.md" >&2
fi
