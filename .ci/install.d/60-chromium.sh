#!/usr/bin/env bash
# Debian's chromium, for the headless-browser test of the HTML report (tests/integration/report_browser.rs).
# Idempotent and quiet; fails loudly. Expects `apt-get update` to have run.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >"$log" 2>&1; then
    cat "$log" >&2
    echo "60-chromium.sh: installing chromium failed" >&2
    exit 1
fi
chromium --version >/dev/null 2>&1 || { echo "60-chromium.sh: chromium does not start" >&2; exit 1; }
