#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG GPUS [train.py options]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR and PORT, as in mmpretrain.
# Without GPUs, GPUS is the number of CPU processes (gloo backend).
# PYTHON picks the interpreter (tools/dist_run.sh).
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: bash tools/dist_train.sh CONFIG GPUS [train.py options]" >&2
    exit 2
fi
exec bash "$(dirname "$0")/dist_run.sh" train.py "$2" "$1" "${@:3}"
