#!/bin/bash
# Stands in for the fleetbench binary in the Slurm test: the array task whose index is
# FLEETBENCH_SLOW_TASK runs lavapipe on one thread (LP_NUM_THREADS=1), so that one unit is
# deliberately slower than its siblings; every task then runs FLEETBENCH_REAL_BIN unchanged.
set -euo pipefail
if [[ ${SLURM_ARRAY_TASK_ID:-} == "${FLEETBENCH_SLOW_TASK:?}" ]]; then
    export LP_NUM_THREADS=1
fi
exec "${FLEETBENCH_REAL_BIN:?}" "$@"
