#!/usr/bin/env bash
# What dist_train.sh and dist_test.sh share: tools/TOOL on NPROC processes
# per node (torch.distributed.run, --launcher pytorch).
# Usage: tools/dist_run.sh TOOL NPROC [TOOL's arguments]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR and PORT, as in mmpretrain.
# Without GPUs, NPROC is the number of CPU processes (gloo backend).
# PYTHON picks the interpreter; by default the .venv that `make` creates,
# else python.
set -euo pipefail
TOOL=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PYTHON:-}" ] && [ -x "$HERE/../.venv/bin/python" ]; then
    PYTHON="$HERE/../.venv/bin/python"
fi

PYTHONPATH="$HERE/..${PYTHONPATH:+:$PYTHONPATH}" \
"${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" \
    --master_port="$PORT" \
    "$HERE/$TOOL" "${@:3}" --launcher pytorch
