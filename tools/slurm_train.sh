#!/usr/bin/env bash
# Usage: tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]
# Environment variables (GPUS, GPUS_PER_NODE, TASKS_PER_NODE, CPUS_PER_TASK,
# SRUN_ARGS, PORT, PYTHON): see tools/slurm_run.sh.
set -euo pipefail
exec bash "$(dirname "$0")/slurm_run.sh" "$1" "$2" train.py "$3" \
    --work-dir="$4" "${@:5}"
