#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options]
# Multi-node: NNODES, MASTER_ADDR and PORT, as in mmpretrain.
# Without GPUs, GPUS is the number of CPU processes (gloo backend).
# PYTHON picks the interpreter (tools/dist_run.sh).
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options]" >&2
    exit 2
fi
exec bash "$(dirname "$0")/dist_run.sh" test.py "$3" "$1" "$2" "${@:4}"
