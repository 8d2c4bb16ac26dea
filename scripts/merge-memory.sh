#!/usr/bin/env bash
# How `merge`'s peak memory grows with the fleet: generates N copies of one default `run --fake`
# result file (18 cases, 10 samples each, about 100 KB), each given a unit of its own (host
# node<i/8>, adapter index i%8, run id), for N = 1,000, 5,000 and 20,000 (or the N given in
# MERGE_N, comma-separated), then runs `merge DIR` under /usr/bin/time -v with each fleetbench
# binary given (e.g. a build of the previous commit and of this one), side by side in one run,
# and prints peak resident memory and CPU seconds. Per-unit statistics grow by a few hundred
# bytes per unit; pooled samples grew by the fleet's sample count.
#
# Usage: scripts/merge-memory.sh WORKDIR FLEETBENCH [FLEETBENCH...]
set -euo pipefail
work=$1
shift
gen=$1
mkdir -p "$work"
cd "$work"
[ -f template.json ] || "$gen" run --fake fleet-gpu:100 --seed 7 -q -o template.json >/dev/null 2>&1
IFS=, read -r -a sizes <<<"${MERGE_N:-1000,5000,20000}"
for n in "${sizes[@]}"; do
  [ -d "fleet$n" ] || python3 - "$n" <<'PY'
import json, os, sys
n = int(sys.argv[1])
template = json.load(open("template.json"))
os.makedirs(f"fleet{n}")
for i in range(n):
    template["machine"]["hostname"] = f"node{i // 8:06d}"
    template["machine"]["adapter"]["index"] = i % 8
    template["run"]["run_id"] = f"fleet-{i}"
    json.dump(template, open(f"fleet{n}/node{i // 8:06d}_gpu{i % 8}.json", "w"), indent=2)
PY
done
for n in "${sizes[@]}"; do
  for bin in "$@"; do
    /usr/bin/time -f "%M %U %S" -o usage.txt "$bin" merge "fleet$n" >/dev/null 2>&1
    read -r kib user sys <usage.txt
    python3 -c "print(f'$bin n=$n: peak {$kib / 1024:.1f} MiB, {$user + $sys:.2f} s CPU')"
  done
done
