#!/usr/bin/env bash
# What dist_train.sh and dist_test.sh share: tools/TOOL on NPROC processes
# per node (torch.distributed.run, --launcher pytorch). This process becomes
# the node's torchrun agent (exec): stopping it stops its workers, and a
# worker ends with it even when it is killed (SIGKILL).
# Usage: tools/dist_run.sh TOOL NPROC [TOOL's arguments]
# Multi-node: NNODES, MASTER_ADDR and PORT, as in mmpretrain; the nodes meet
# in torchrun's c10d rendezvous at MASTER_ADDR:PORT (RDZV_ID names the job
# there, default "mmpre_inception"), which gives each node its rank.
# MAX_RESTARTS: how often torchrun starts the whole group again after a
# worker or node fails (default 0 here; dist_train.sh sets its own).
# Without GPUs, NPROC is the number of CPU processes (gloo backend).
# PYTHON picks the interpreter; by default the .venv that `make` creates,
# else python.
set -euo pipefail
TOOL=$1
NPROC=$2
NNODES=${NNODES:-1}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PYTHON:-}" ] && [ -x "$HERE/../.venv/bin/python" ]; then
    PYTHON="$HERE/../.venv/bin/python"
fi

export PYTHONPATH="$HERE/..${PYTHONPATH:+:$PYTHONPATH}"
# A restarted group must not meet in the store of the one before: torchrun
# shares its rendezvous store with the workers by default, where the new
# workers read the old ones' addresses and fail to connect (gloo) or hang
# (NCCL). Each round then gets a store of its own, on rank 0
# (pytorch/pytorch#135712, #167288).
export TORCH_DISABLE_SHARE_RDZV_TCP_STORE=${TORCH_DISABLE_SHARE_RDZV_TCP_STORE:-1}
# One thread per process unless told otherwise: what torchrun and mmengine
# would each set, with a warning, in every run.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export MKL_NUM_THREADS=${MKL_NUM_THREADS:-$OMP_NUM_THREADS}
exec "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --nproc-per-node="$NPROC" \
    --rdzv-backend=c10d \
    --rdzv-endpoint="$MASTER_ADDR:$PORT" \
    --rdzv-id="${RDZV_ID:-mmpre_inception}" \
    --max-restarts="${MAX_RESTARTS:-0}" \
    "$HERE/$TOOL" "${@:3}" --launcher pytorch
