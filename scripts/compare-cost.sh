#!/usr/bin/env bash
# How `compare`'s cost grows with the number of cases: generates two result files of 1,000,
# 5,000 and 20,000 fake cases each, then times `compare` in both views with each fleetbench
# binary given (e.g. a build of the previous commit and of this one), side by side in one run,
# and prints CPU seconds per 1,000 cases: flat means linear.
#
# Usage: scripts/compare-cost.sh WORKDIR FLEETBENCH [FLEETBENCH...]
set -euo pipefail
work=$1
shift
gen=$1
mkdir -p "$work"
cd "$work"
if [ ! -f c20000b.json ]; then
  # 20 fake runs of 1,000 distinct shapes each, in parallel (the fake backend mostly waits).
  for j in $(seq 0 19); do
    sizes=$(python3 -c "print(','.join(f'{16+i%64}x{16+(i//64)%64}x{16+$j}' for i in range(1000)))")
    "$gen" run --fake "cost gpu:100" --kernels matmul_naive --sizes "$sizes" --samples 3 \
      --quiet --seed $((j + 1)) -o "part$j.json" >/dev/null 2>&1 &
  done
  wait
  python3 - <<'PY'
import json
parts = [json.load(open(f"part{j}.json")) for j in range(20)]
cases = [c for p in parts for c in p["cases"]]
for n in (1000, 5000, 20000):
    for side in "ab":
        d = dict(parts[0], cases=cases[:n])
        d["run"] = {k: v for k, v in parts[0]["run"].items() if k != "plan"}
        d["run"]["run_id"] = f"cost-{side}-{n}"
        json.dump(d, open(f"c{n}{side}.json", "w"))
PY
fi
for n in 1000 5000 20000; do
  for bin in "$@"; do
    for view in capability same-code; do
      flag=$([ "$view" = same-code ] && echo --same-code || true)
      /usr/bin/time -f "%U" -o cpu.txt "$bin" compare "c${n}a.json" "c${n}b.json" $flag \
        --format json >/dev/null 2>&1
      t=$(tail -1 cpu.txt)
      echo "$bin n=$n $view: ${t} s CPU, $(python3 -c "print(f'{$t / $n * 1000:.3f}')") s per 1,000 cases"
    done
  done
done
