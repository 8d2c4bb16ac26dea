#!/usr/bin/env bash
# Fuzzes the result-file loader and validator for a bounded time (default 120 s). Not run in CI.
# With nightly Rust and cargo-fuzz installed it runs the libFuzzer target in fuzz/; otherwise it
# runs the stable, seeded mutation fuzzer (tests/loader_fuzz.rs) with many more iterations.
# Whatever it finds: fix it, and add the input to tests/hostile/ with a line in EXPECTED.tsv.
set -euo pipefail
seconds="${1:-120}"
cd "$(dirname "$0")/.."
if cargo +nightly fuzz --version >/dev/null 2>&1; then
    corpus="$(mktemp -d)"
    cp tests/fixtures/validate/*.json "$corpus"/
    find tests/hostile -maxdepth 1 -type f -name '*.json' -exec cp {} "$corpus"/ \;
    exec cargo +nightly fuzz run result_file "$corpus" -- -max_total_time="$seconds" -max_len=65536
fi
echo "nightly cargo-fuzz not available; running the stable mutation fuzzer for ${seconds}s" >&2
FLEETBENCH_FUZZ_SECONDS="$seconds" FLEETBENCH_FUZZ_ITERS=100000000 \
    exec cargo test --release --test loader_fuzz -- --nocapture
