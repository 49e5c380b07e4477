#!/usr/bin/env bash
# Usage: tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]
# Environment variables (GPUS, GPUS_PER_NODE, TASKS_PER_NODE, CPUS_PER_TASK,
# SRUN_ARGS, PORT, PYTHON): see tools/slurm_run.sh.
set -euo pipefail
exec bash "$(dirname "$0")/slurm_run.sh" "$1" "$2" test.py "$3" "$4" "${@:5}"
