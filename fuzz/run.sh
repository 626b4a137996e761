#!/usr/bin/env bash
# Runs the libFuzzer targets with cargo fuzz: fuzz/run.sh [SECONDS] [TARGET...]
# Each target runs SECONDS (default 60) from its committed seeds (fuzz/seeds/TARGET; the
# scenario target starts from every file under scenarios/) and its
# own growing corpus (fuzz/corpus/TARGET, not committed). Crashes land in
# fuzz/artifacts/TARGET; replay one with `cargo +nightly fuzz run TARGET FILE`.
# Installs cargo-fuzz once per version into the project's cache; needs the nightly toolchain
# (libFuzzer's coverage instrumentation is a nightly flag).
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.13.2
root="${XDG_CACHE_HOME:-$HOME/.cache}/akv-e2e/cargo-fuzz-$version"
if [ ! -x "$root/bin/cargo-fuzz" ]; then
    echo "installing cargo-fuzz $version into $root" >&2
    cargo install cargo-fuzz --version "$version" --locked --root "$root"
fi
export PATH="$root/bin:$PATH"

seconds="${1:-60}"
shift || true
if [ "$#" -eq 0 ]; then
    set -- $(cargo +nightly fuzz list)
fi
# No sanitizer: the workspace forbids unsafe, and libFuzzer runs about twice as many inputs
# a second without AddressSanitizer's instrumentation.
# Nor the release profile's whole-program optimisation (made for the benchmarks): with it each
# target links for minutes.
export CARGO_PROFILE_RELEASE_LTO=false
flags=(--sanitizer none --codegen-units 16)
cargo +nightly fuzz build "${flags[@]}"
for target in "$@"; do
    mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
    seeds="fuzz/seeds/$target"
    [ "$target" = scenario_yaml ] && seeds=scenarios
    echo "== $target: ${seconds}s" >&2
    # -timeout=300: a 4096-bit RSA key (certificate create) takes seconds, and over a minute
    # on a busy machine, with the fuzz build's overflow checks; a hang still stops the run.
    cargo +nightly fuzz run "${flags[@]}" "$target" "fuzz/corpus/$target" "$seeds" -- \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=300 -rss_limit_mb=4096
done
