#!/usr/bin/env bash
# Fuzzes the result-file loader + validator and the fleet-file, ratios-file and Epoch CSV
# loaders for a bounded time
# (default 120 s each). Not run in CI.
# With nightly Rust and cargo-fuzz installed it runs the libFuzzer targets in fuzz/; otherwise it
# runs the stable, seeded mutation fuzzer (tests/integration/loader_fuzz.rs) with many more iterations.
# Whatever it finds: fix it, and add the input to tests/hostile/ (or tests/hostile-fleet/) with a
# line in that folder's EXPECTED.tsv (tests/hostile-ratios/, tests/hostile-epoch/ likewise).
set -euo pipefail
seconds="${1:-120}"
cd "$(dirname "$0")/.."
if cargo +nightly fuzz --version >/dev/null 2>&1; then
    results="$(mktemp -d)" fleets="$(mktemp -d)" ratios="$(mktemp -d)" epoch="$(mktemp -d)"
    cp tests/fixtures/validate/*.json "$results"/
    find tests/hostile -maxdepth 1 -type f -name '*.json' -exec cp {} "$results"/ \;
    cp data/scenarios/*.toml "$fleets"/
    find tests/hostile-fleet -maxdepth 1 -type f -name '*.toml' -exec cp {} "$fleets"/ \;
    cp data/scenarios/*.json tests/fixtures/*.json "$ratios"/
    find tests/hostile-ratios -maxdepth 1 -type f -name '*.json' -exec cp {} "$ratios"/ \;
    cp tests/fixtures/*.csv "$epoch"/
    find tests/hostile-epoch -maxdepth 1 -type f -name '*.csv' -exec cp {} "$epoch"/ \;
    cargo +nightly fuzz run result_file "$results" -- -max_total_time="$seconds" -max_len=65536
    cargo +nightly fuzz run fleet_file "$fleets" -- -max_total_time="$seconds" -max_len=65536
    cargo +nightly fuzz run ratios_file "$ratios" -- -max_total_time="$seconds" -max_len=65536
    cargo +nightly fuzz run epoch_csv "$epoch" -- -max_total_time="$seconds" -max_len=262144
    exit 0
fi
echo "nightly cargo-fuzz not available; running the stable mutation fuzzer for ${seconds}s each" >&2
FLEETBENCH_FUZZ_SECONDS="$seconds" FLEETBENCH_FUZZ_ITERS=100000000 \
    exec cargo test --release --test integration loader_fuzz -- --nocapture --test-threads=1
