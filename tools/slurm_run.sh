#!/usr/bin/env bash
# Usage: tools/slurm_run.sh PARTITION JOB_NAME SCRIPT [SCRIPT arguments]
# Runs tools/SCRIPT (train.py or test.py) with --launcher slurm, one process
# per task, started by srun. slurm_train.sh and slurm_test.sh call it.
# mmpretrain's variables:
#   GPUS (total processes, default 8), GPUS_PER_NODE (default 8),
#   CPUS_PER_TASK (default 5), SRUN_ARGS (extra srun options),
#   PORT (rendezvous port, default 29500).
# CPU clusters: GPUS_PER_NODE=0 requests no GPUs; set TASKS_PER_NODE to the
# processes per node there. Without GPUs the processes use gloo.
# PYTHON picks the interpreter; by default the .venv that `make` creates,
# else python.
set -euo pipefail
PARTITION=$1
JOB_NAME=$2
SCRIPT=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
TASKS_PER_NODE=${TASKS_PER_NODE:-$GPUS_PER_NODE}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PYTHON:-}" ] && [ -x "$HERE/../.venv/bin/python" ]; then
    PYTHON="$HERE/../.venv/bin/python"
fi

NODE_OPTIONS=()
if [ "$GPUS_PER_NODE" -gt 0 ]; then
    NODE_OPTIONS+=(--gres="gpu:$GPUS_PER_NODE")
fi
if [ "$TASKS_PER_NODE" -gt 0 ]; then
    NODE_OPTIONS+=(--ntasks-per-node="$TASKS_PER_NODE")
fi

export MASTER_PORT=${PORT:-29500}
# One thread per process unless told otherwise: what mmengine would set,
# with a warning, in every run.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export MKL_NUM_THREADS=${MKL_NUM_THREADS:-$OMP_NUM_THREADS}
export PYTHONPATH="$HERE/..${PYTHONPATH:+:$PYTHONPATH}"
# srun in this process (exec): a signal to it reaches srun, which passes
# it on to the tasks.
# shellcheck disable=SC2086  # SRUN_ARGS holds several options
exec srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --ntasks="$GPUS" \
    "${NODE_OPTIONS[@]}" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "${PYTHON:-python}" -u "$HERE/$SCRIPT" "${@:4}" --launcher slurm
