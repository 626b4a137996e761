# Common commands. Plain cargo works too; see README.md.

# Run every test (the README's test command).
test:
    cargo test --workspace

# Lint gates CI applies.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Run the seed flows and failure stories on the local plane, without the Reloader ones.
seeds *args:
    cargo run -p harness -- run scenarios/seeds scenarios/failures scenarios/clouds --skip tag:reloader --jobs 2 {{args}}

# The Reloader scenarios (needs HARNESS_RELOADER_BIN).
seeds-reloader *args:
    cargo run -p harness -- run scenarios/seeds/*reloader*.yaml scenarios/failures/*reloader*.yaml {{args}}

# Run the fake Entra ID with the example directory.
fake-aad:
    cargo run -p fake-aad -- --directory fake-aad/examples/directory.yaml

# Review pending insta snapshots.
review:
    cargo insta review

# fake-akv vs nginx sent the same requests: GET/SET secret req/s, p50/p99 over TLS, median of
# 3 alternating runs (installs wrk, nginx-light).
bench-akv seconds="5":
    bench/akv.sh {{seconds}}

# Local control plane: warm up-to-ready and down times (add --cold for cold build times).
bench-plane *args:
    bench/plane.sh {{args}}
