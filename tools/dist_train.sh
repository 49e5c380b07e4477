#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG GPUS [train.py options]
# Multi-node: NNODES, MASTER_ADDR and PORT, as in mmpretrain.
# Without GPUs, GPUS is the number of CPU processes (gloo backend).
# MAX_RESTARTS (default 3): after a worker or a node fails, torchrun starts
# the run again, up to this many times; each start resumes from the work
# dir's newest complete checkpoint (the config's restart_resumes). 0 ends
# the run at the first failure. docs/training.md, "Long runs on a cluster".
# PYTHON picks the interpreter (tools/dist_run.sh).
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: bash tools/dist_train.sh CONFIG GPUS [train.py options]" >&2
    exit 2
fi
export MAX_RESTARTS=${MAX_RESTARTS:-3}
exec bash "$(dirname "$0")/dist_run.sh" train.py "$2" "$1" "${@:3}"
