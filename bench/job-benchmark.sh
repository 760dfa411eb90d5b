#!/usr/bin/env bash
# Throughput of the whole streaming job (replay source -> two augmentation operators -> pairing -> training operator,
# RocksDB, MiniCluster) against the bare learner (Learner.step on the same model, batch and pre-made views), both in
# one JVM and alternated round by round (io.siamstream.bench.JobThroughputBenchmark); with checkpoints every 10 s and
# without; plus Flink's checkpoint statistics (duration, sync/async part of the training subtask, sizes).
#
# usage: bench/job-benchmark.sh [throughput|checkpoint|all]   (default: all)
#   throughput  convnet, batch 128: job / job-ckpt (aligned) / job-ckpt-unaligned / job-ckpt-unaligned-timeout /
#               bare, ROUNDS rounds
#                                                                         -> bench/results/job-benchmark.md
#   checkpoint  ResNet-18 (CIFAR, paper heads): CKPT_MODES (default job-ckpt-unaligned-timeout,bare: the job's own
#               checkpoint defaults), batch CKPT_BATCH, CKPT_ROUNDS rounds
#                                                                         -> bench/results/job-checkpoint-resnet18.md
# Options (environment): ROUNDS (4), STEPS (100), WARMUP (30: by then the JIT has compiled the job's hot paths; with
#   10 its compiler threads still took CPU from the timed steps), WARMUP_CHECKPOINTS (2: the job's runs are timed
#   from a random point of a checkpoint interval after that many completed checkpoints, once the JIT has compiled the
#   checkpoint path; runs without checkpoints warm up for as many intervals), BATCH
#   (128), CKPT_BATCH (32), CKPT_STEPS (40), CKPT_ROUNDS (4), WARMUP_ROUNDS (1: unreported rounds first; the first
#   job in a JVM has the JIT compile Flink's runtime inside its window, which a long-running job pays once),
#   BACKGROUND_NICENESS (19: siamstream.train.background-niceness, as k8s/flinkdeployment-cpu.yaml sets it; 0 runs
#   without it), MODES (throughput's modes, default job,job-ckpt,job-ckpt-unaligned,job-ckpt-unaligned-timeout,bare;
#   job-ckpt-unaligned-timeout: unaligned checkpoints that start aligned and turn unaligned after
#   ALIGNED_CHECKPOINT_TIMEOUT, default 2s, Flink's execution.checkpointing.aligned-checkpoint-timeout: the job's
#   default), THREADS (engine intra-op threads; default: DJL's default, the number of cores), SKIP_BUILD=1,
#   JAVA_OPTS (extra JVM flags, e.g. a JFR recording), ALLOCATOR_SETTINGS (pom or default; bench/lib/prologue.sh),
#   MANAGED_MEMORY (the MiniCluster TaskManager's managed memory, e.g. 2g; RocksDB's memtables live in it; default:
#   the MiniCluster's own, 128 MB for 4 slots; results then go to <name>-managed-<size>.md), RESULTS (folder for the
#   tables; default bench/results), OFFLINE=0 (let Maven download; bench/lib/prologue.sh).
# Every table also gives the JVM's CPU per step by thread (augmentation, pairing, training, checkpointing, the JIT).
# The machine is shared: every run reports the CPU share other processes used while it ran; compare ratios taken in
# the same run only.
set -euo pipefail
BENCH_NAME=job-benchmark
source "$(dirname "${BASH_SOURCE[0]}")/lib/prologue.sh"
WHAT="${1:-all}"

THREAD_FLAG=()
if [[ -n "${THREADS:-}" ]]; then THREAD_FLAG=(-Dai.djl.pytorch.num_threads="$THREADS"); export OMP_NUM_THREADS="$THREADS"; fi

MM_ARGS=()
SUFFIX=""
if [[ -n "${MANAGED_MEMORY:-}" ]]; then MM_ARGS=(--managed-memory "$MANAGED_MEMORY"); SUFFIX="-managed-$MANAGED_MEMORY"; fi

run() {
  # -Xms as -Xmx, as Flink starts a TaskManager: a heap that grows faults its pages in inside the timed windows (the
  # job's checkpoint copies are the largest objects), which a TaskManager's heap does not
  # shellcheck disable=SC2086
  "${JAVA[@]}" -Xmx6g -Xms6g ${JAVA_OPTS:-} "${THREAD_FLAG[@]}" -cp "$CP" \
    io.siamstream.bench.JobThroughputBenchmark "${MM_ARGS[@]}" --warmup-rounds "${WARMUP_ROUNDS:-1}" \
    --background-niceness "${BACKGROUND_NICENESS:-19}" --aligned-checkpoint-timeout "${ALIGNED_CHECKPOINT_TIMEOUT:-2s}" "$@"
}

if [[ "$WHAT" == throughput || "$WHAT" == all ]]; then
  run --model convnet --batch "${BATCH:-128}" --warmup "${WARMUP:-30}" --steps "${STEPS:-100}" \
      --warmup-checkpoints "${WARMUP_CHECKPOINTS:-2}" --rounds "${ROUNDS:-4}" --modes "${MODES:-job,job-ckpt,job-ckpt-unaligned,job-ckpt-unaligned-timeout,bare}" --checkpoint-interval 10s \
      --markdown "$RESULTS/job-benchmark$SUFFIX.md"
fi
if [[ "$WHAT" == checkpoint || "$WHAT" == all ]]; then
  # no purely aligned mode: aligned barriers of this 30-pairs/s job queue behind the buffered pairs and rarely
  # complete in the window; the job's default (unaligned after a 2-s alignment timeout) turns unaligned
  run --model resnet18 --batch "${CKPT_BATCH:-32}" --warmup 5 --warmup-checkpoints "${WARMUP_CHECKPOINTS:-2}" \
      --steps "${CKPT_STEPS:-40}" --rounds "${CKPT_ROUNDS:-4}" \
      --modes "${CKPT_MODES:-job-ckpt-unaligned-timeout,bare}" --checkpoint-interval 10s \
      --markdown "$RESULTS/job-checkpoint-resnet18$SUFFIX.md"
fi
