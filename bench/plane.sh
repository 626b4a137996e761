#!/usr/bin/env bash
# Local control plane figures: warm `harness up` to all-ready and `harness down`, three runs
# each; with --cold, also a cold build of every component into a scratch cache (about 30
# minutes on 2 cores). Usage: bench/plane.sh [--cold]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p harness
HARNESS="$PWD/target/debug/harness"
WORK="$(mktemp -d)"
trap '"$HARNESS" down --run-dir "$WORK/run" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }

if [ "${1:-}" = "--cold" ]; then
    echo "cold builds (empty build cache and binary cache; modules may already be downloaded):"
    XDG_CACHE_HOME="$WORK/cache" GOCACHE="$WORK/gocache" "$HARNESS" deps | sed 's/^/  /'
fi

"$HARNESS" deps >/dev/null
printf '%-4s %10s %10s\n' run up-ready down
for i in 1 2 3; do
    start="$(now)"
    "$HARNESS" up --run-dir "$WORK/run" >/dev/null 2>"$WORK/up.log" &
    up_pid=$!
    until grep -q "harness up: running" "$WORK/up.log" 2>/dev/null; do
        kill -0 "$up_pid" 2>/dev/null || { cat "$WORK/up.log" >&2; exit 1; }
        sleep 0.05
    done
    ready="$(now)"
    "$HARNESS" down --run-dir "$WORK/run" >/dev/null 2>&1
    wait "$up_pid" || true
    down="$(now)"
    printf '%-4s %9ss %9ss\n' "$i" "$(secs "$start" "$ready")" "$(secs "$ready" "$down")"
done
