#!/usr/bin/env bash
# The whole GPU check in one command, for an NVIDIA machine (an H200) with no network and
# about 8 minutes: uses a carried release binary, sets up the Vulkan loader from unpacked
# Debian packages in .gl/ when the system has none, points the loader at the NVIDIA ICD when
# no driver is registered, then runs `fleetbench devices`, the default suite, the shape sweep
# and the cuBLAS references, and validates every result file.
#
# Usage: scripts/device-check.sh [--dry-run] [OUTDIR]
#   OUTDIR defaults to $OUT; at most 8 files are written there:
#     devices.txt  devices.json  suite.json  sweep.json  vendor.json  validate.txt  check.log
#   FLEETBENCH_BIN overrides the binary (default target/release/fleetbench).
#   --dry-run: everything but CUDA, on whatever adapter is present (lavapipe in CI): the loader
#     and ICD decisions are printed instead of applied, the suite and the sweep are cut to tiny
#     shapes, and the vendor script runs its CPU stand-in. Tested by tests/integration/device_check.rs.
#     It also fails (exit 1, before measuring) when what travels to the GPU machine — the
#     repository's files, the binary and the Vulkan loader packages in .gl/ — is over
#     TRAVEL_LIMIT_BYTES (default 48 MiB); a real run only reports the figure.
# Each step has a time budget; a step that runs out is interrupted with SIGINT, which fleetbench
# answers by saving what it measured (result files are written after every case), and the
# check goes on. The whole check stays inside DEADLINE_S (default 470 seconds).
set -uo pipefail

dry_run=0
if [[ "${1:-}" == "--dry-run" ]]; then
    dry_run=1
    shift
fi
out="${1:-${OUT:-}}"
if [[ -z "$out" ]]; then
    echo "device-check: no output directory (set \$OUT or pass one)" >&2
    exit 2
fi
mkdir -p "$out" || exit 2
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${FLEETBENCH_BIN:-$root/target/release/fleetbench}"
deadline=$(( $(date +%s) + ${DEADLINE_S:-470} ))
log="$out/check.log"
: > "$log"
export NODEVICE_SELECT=1
# The tuning cache lives outside $OUT (file budget); the sweep reuses the suite's choices.
cache_dir="$(mktemp -d)"
trap 'rm -rf "$cache_dir"' EXIT
export FLEETBENCH_TUNE_CACHE="$cache_dir/tune.json"

say() { echo "device-check: $*" | tee -a "$log" >&2; }

if [[ ! -x "$bin" ]]; then
    say "no fleetbench binary at $bin (build with cargo build --release, or set FLEETBENCH_BIN)"
    exit 2
fi

# Runs a step with at most $1 seconds (less if the deadline is nearer); never fails the check.
step() {
    local budget="$1" name="$2"
    shift 2
    local left=$(( deadline - $(date +%s) - 5 ))
    (( budget > left )) && budget=$left
    if (( budget < 5 )); then
        say "$name: skipped, no time left"
        return 0
    fi
    say "$name: up to ${budget}s: $*"
    local start rc
    start=$(date +%s)
    timeout -s INT -k 15 "$budget" "$@" 2>>"$log"
    rc=$?
    say "$name: exit $rc after $(( $(date +%s) - start ))s"
    return 0
}

setup_loader() {
    if ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
        say "Vulkan loader: found on the system"
    elif compgen -G "$root/.gl/*.deb" > /dev/null; then
        if (( dry_run )); then
            say "Vulkan loader: would unpack $(ls "$root"/.gl/*.deb | wc -l) package(s) from .gl/ (dry run)"
        else
            say "Vulkan loader: unpacking .gl/*.deb"
            for f in "$root"/.gl/*.deb; do dpkg -x "$f" / >>"$log" 2>&1; done
            ldconfig
        fi
    else
        say "Vulkan loader: none on the system and no .gl/*.deb; wgpu may fall back to GL"
    fi
}

setup_icd() {
    local nvidia=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    if compgen -G "/usr/share/vulkan/icd.d/*.json" > /dev/null \
        || compgen -G "/etc/vulkan/icd.d/*.json" > /dev/null \
        || [[ -n "${VK_ICD_FILENAMES:-}" ]]; then
        say "Vulkan ICD: registered"
    elif [[ -e "$nvidia" ]]; then
        if (( dry_run )); then
            say "Vulkan ICD: would use $nvidia (dry run)"
        else
            say "Vulkan ICD: using $nvidia"
            export VK_ICD_FILENAMES="$nvidia" VK_DRIVER_FILES="$nvidia"
            export LD_LIBRARY_PATH="/usr/local/nvidia/lib64:/usr/local/nvidia/lib:${LD_LIBRARY_PATH:-}"
        fi
    else
        say "Vulkan ICD: none registered and no NVIDIA ICD at $nvidia"
    fi
}

# Bytes of the files git would carry (tracked, and untracked ones it does not ignore), outside
# .gl/; without git (a bare copy), every file but .git/, target/ and .gl/.
repository_bytes() {
    if git -C "$root" rev-parse --git-dir > /dev/null 2>&1; then
        (cd "$root" && git ls-files -z -co --exclude-standard | grep -zv '^\.gl/' \
            | du -cb --files0-from=- 2>/dev/null | tail -n 1 | cut -f1)
    else
        (cd "$root" && find . -type f -not -path './.git/*' -not -path './target/*' \
            -not -path './.gl/*' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
    fi
}

# What travels: repository + binary + loader packages, against TRAVEL_LIMIT_BYTES. Over the
# limit a dry run fails; on the GPU machine the files already arrived, so it only says so.
check_travel_size() {
    local limit="${TRAVEL_LIMIT_BYTES:-50331648}" repo binary loader=0 total
    repo=$(repository_bytes)
    binary=$(stat -c %s "$bin")
    if compgen -G "$root/.gl/*.deb" > /dev/null; then
        loader=$(cat "$root"/.gl/*.deb | wc -c)
    fi
    total=$(( repo + binary + loader ))
    say "travel size: repository ${repo} + binary ${binary} + loader packages ${loader} = ${total} bytes (limit ${limit})"
    if (( total > limit )); then
        say "travel size: over the limit by $(( total - limit )) bytes (build with cargo build --release: the release profile strips debug info)"
        (( dry_run )) && exit 1
    fi
    return 0
}

check_travel_size
setup_loader
setup_icd
command -v nvidia-smi > /dev/null && nvidia-smi >>"$log" 2>&1

step 30 devices "$bin" devices > "$out/devices.txt"
step 30 devices-json "$bin" devices --format json > "$out/devices.json"

if (( dry_run )); then
    suite=(--kernels tuned,matmul_tiled,peak_fma_f32,vendor --sizes 64 --tune-size 64
           --samples 2 --warmup 0)
    sweep=(--kernels tuned --sizes 64,32x64x32 --tune-size 64 --samples 2 --warmup 0)
    vendor=(--dry-run)
else
    suite=()
    sweep=(--sweep --kernels tuned)
    vendor=(--sizes 8192,4096 --samples 10)
fi
# Summary tables go to the log; the result files are the record.
step 200 suite "$bin" run "${suite[@]}" --quiet --force -o "$out/suite.json" >>"$log"
step 150 sweep "$bin" run "${sweep[@]}" --quiet --force -o "$out/sweep.json" >>"$log"
if [[ -s "$out/suite.json" ]]; then
    step 70 vendor python3 "$root/scripts/vendor-cublas.py" --like "$out/suite.json" \
        -o "$out/vendor.json" "${vendor[@]}" >>"$log"
else
    say "vendor: skipped, the suite wrote no result file to describe the machine"
fi

results=()
for f in suite sweep vendor; do
    [[ -s "$out/$f.json" ]] && results+=("$out/$f.json")
done
if (( ${#results[@]} )); then
    step 30 validate "$bin" validate "${results[@]}" > "$out/validate.txt"
fi
say "done: $(ls "$out" | wc -l) file(s) in $out"
