#!/bin/bash
# Stands in for the fleetbench binary in the Slurm test. The array task whose index is
# FLEETBENCH_SLOW_TASK is deliberately slowed: lavapipe runs on one thread (LP_NUM_THREADS=1)
# and two busy loops compete with it for the CPU while it runs, as a degraded GPU would be.
# The busy loops matter where the machine is shared: when the scheduler caps this job's CPU
# share, one thread fewer alone changes little. Every other task runs FLEETBENCH_REAL_BIN as is.
set -euo pipefail
real=${FLEETBENCH_REAL_BIN:?}
if [[ ${SLURM_ARRAY_TASK_ID:-} != "${FLEETBENCH_SLOW_TASK:?}" ]]; then
    exec "$real" "$@"
fi
export LP_NUM_THREADS=1
hogs=()
for _ in 1 2; do
    (while :; do :; done) &
    hogs+=($!)
done
trap 'kill "${hogs[@]}" 2>/dev/null || true' EXIT
"$real" "$@"
