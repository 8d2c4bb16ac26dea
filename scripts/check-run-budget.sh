#!/usr/bin/env bash
# The target check of the time-budgeted default suite: runs the release binary's default `run`
# with an empty tuning cache, then prints the wall time against the budget and every headline
# case's 95% half-width (target: within the budget, each headline case at ≤ 3% or marked noisy),
# and the host seconds spent verifying outputs — every case's and every tuning trial's check —
# as a share of the wall time (all of it is on the critical path, as each check runs before
# its case's samples). `--simulate h200-sxm --simulate-realtime` checks the simulated device
# with its device time taken in real time, so the wall time is the run's as on the device;
# without `--simulate-realtime` the device time passes at once and the wall time is the host's
# work alone (the script says so).
# Not run in CI: wall-clock numbers belong in a report, not in a test.
#
#   scripts/check-run-budget.sh [extra run flags…]     e.g. --budget 60, --device 1
#
# Needs python3 to read the result file. Exits 1 when the run overran its budget or a headline
# case is above 3% without being marked noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export FLEETBENCH_TUNE_CACHE="$work/tune.json" NODEVICE_SELECT=1
start=$(date +%s.%N)
status=0
./target/release/fleetbench run -o "$work/run.json" "$@" >"$work/summary.txt" || status=$?
end=$(date +%s.%N)
cat "$work/summary.txt"
instant=0
case " $* " in *" --simulate "*) case " $* " in *" --simulate-realtime "*) ;; *) instant=1 ;; esac ;; esac
python3 - "$work/run.json" "$start" "$end" "$status" "$instant" <<'PY'
import json, sys
path, start, end, status = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
instant = sys.argv[5] == "1"
f = json.load(open(path))
plan = f["run"].get("plan") or {}
budget = plan.get("budget_s", float("nan"))
wall = end - start
print(f"\nadapter: {f['machine']['adapter']['name']} ({f['machine']['adapter']['backend']})")
print(f"wall time {wall:.1f} s, budget {budget:.0f} s, planned {plan.get('estimated_s', 0):.1f} s, "
      f"tuning {plan.get('tuning_s', 0):.1f} s, exit status {status}")
roles = {c["id"]: c["role"] for c in plan.get("cases", [])}
bad = 0
print(f"{'case':58} {'n':>5} {'half-width':>10}  verdict")
for case in f["cases"]:
    if roles.get(case["id"]) != "headline" or case["status"] != "passed":
        continue
    s = case.get("sampling") or {}
    hw = s.get("half_width", float("nan"))
    verdict = "ok" if hw <= 0.03 else ("noisy (marked)" if s.get("noisy") else "ABOVE 3%, NOT MARKED")
    bad += verdict.startswith("ABOVE")
    print(f"{case['id']:58} {len(case['timing']['host_s']):5} {hw * 100:9.1f}%  {verdict}")
for cut in plan.get("cuts", []):
    print(f"cut: {cut}")
cases_s = sum((c.get("verification") or {}).get("host_s") or 0 for c in f["cases"])
searches = {}
for case in f["cases"]:
    t = case.get("tuning")
    if t and not t.get("from_cache"):
        searches[(t["key"], t["searched_at"])] = t
tuning_s = sum(tr.get("verification_host_s") or 0 for t in searches.values() for tr in t["trials"])
print(f"\nverification: {cases_s:.2f} s in cases + {tuning_s:.2f} s in tuning trials = "
      f"{(cases_s + tuning_s) / wall * 100:.1f}% of the wall time")
if instant:
    print("(simulated device time passed at once: this wall time is the host's work alone; "
          "add --simulate-realtime for the run's wall time as on the device)")
over = wall > budget
print(f"\nwithin budget: {'no' if over else 'yes'}; unmarked headline cases above 3%: {bad}")
sys.exit(1 if over or bad else 0)
PY
