#!/usr/bin/env bash
# Usage: tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]
# Environment variables (GPUS, GPUS_PER_NODE, TASKS_PER_NODE, CPUS_PER_TASK,
# SRUN_ARGS, PORT, PYTHON): see tools/slurm_run.sh.
# MAX_RESTARTS (default 3): after a failed srun, start the run again, up to
# this many times; each start resumes from the work dir's newest complete
# checkpoint (the config's restart_resumes; TORCHELASTIC_RESTART_COUNT
# counts the starts, as torchrun counts its own). 0 ends the run at the
# first failure. A SIGTERM or SIGINT (scancel, a preemption) ends it,
# without a restart. docs/training.md, "Long runs on a cluster".
set -uo pipefail
MAX_RESTARTS=${MAX_RESTARTS:-3}
HERE=$(dirname "$0")
stopping=0
child=0
trap 'stopping=1; [ "$child" -gt 0 ] && kill -TERM "$child" 2>/dev/null' \
    TERM INT
for ((start = 0; ; start++)); do
    TORCHELASTIC_RESTART_COUNT=$start bash "$HERE/slurm_run.sh" "$1" "$2" \
        train.py "$3" --work-dir="$4" "${@:5}" &
    child=$!
    status=0
    wait "$child" || status=$?
    if [ "$stopping" = 1 ]; then
        wait "$child" 2>/dev/null
        exit 143
    fi
    if [ "$status" = 0 ] || [ "$start" -ge "$MAX_RESTARTS" ]; then
        exit "$status"
    fi
    echo "slurm_train.sh: the run failed (status $status); start" \
        "$((start + 2)) of at most $((MAX_RESTARTS + 1))" >&2
done
