#!/usr/bin/env bash
# Rotation latency per hop on seed 002 (bench/rotation.yaml: the article's client-secret flow
# with Reloader, both of ESO's code paths): N rotations (default 20) with force-sync, then N
# with the ExternalSecret's refreshInterval alone, each hop timed by `measureRotations` from
# the fake's audit log and Kubernetes watches; then `harness up` warm start to all-ready and
# `harness down` (bench/plane.sh). Prints one table per variant and mode.
# Usage: bench/e2e.sh [rotations] [node: kwok|real|auto]
set -euo pipefail
cd "$(dirname "$0")/.."
ROTATIONS="${1:-20}"
NODE="${2:-kwok}"
cargo build --release -q -p harness
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# The scenario with this count, beside the manifest it applies.
mkdir -p "$WORK/bench" "$WORK/scenarios/seeds"
cp scenarios/seeds/app-deployments.manifest "$WORK/scenarios/seeds/"
sed "s/rotations: 20$/rotations: $ROTATIONS/" bench/rotation.yaml >"$WORK/bench/rotation.yaml"
echo "machine: $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
target/release/harness run "$WORK/bench/rotation.yaml" --node "$NODE" --json "$WORK/report.jsonl"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
bench/plane.sh
