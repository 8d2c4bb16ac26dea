#!/usr/bin/env bash
# Debian's PostgreSQL server, for the store tests (tests/integration/store.rs): they start a
# throwaway cluster of their own (initdb into a temporary directory, a free port on 127.0.0.1)
# and remove it after. Idempotent and quiet; fails loudly. Expects `apt-get update` to have run.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! apt-get install -y -qq --no-install-recommends postgresql >"$log" 2>&1; then
    cat "$log" >&2
    echo "50-postgres.sh: installing postgresql failed" >&2
    exit 1
fi
ls /usr/lib/postgresql/*/bin/initdb >/dev/null
command -v runuser >/dev/null
