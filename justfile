# Common commands. Plain cargo works too; see README.md.

# Run every test (the README's test command).
test:
    cargo test --workspace

# The bench's image (`harness serve` in a container), built into Docker from a release build.
image tag="akv-e2e-bench:0.1.0":
    cargo build --release -p harness
    target/release/harness images bench --tag {{tag}}

# Lint gates CI applies.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Run the seed flows, failure stories and Reloader stories on the local plane (the main command).
seeds *args:
    cargo run -p harness -- run scenarios/seeds scenarios/failures scenarios/clouds scenarios/auth scenarios/reloader scenarios/node scenarios/helm --jobs 2 {{args}}

# Every scenario tagged reloader, two at a time.
reloader *args:
    cargo run -p harness -- run scenarios --filter tag:reloader --jobs 2 {{args}}

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

# Rotation latency per hop on seed 002 with Reloader (vault write, ESO's GetSecret, Secret
# updated, Deployment patched, new pods Ready; force-sync and refreshInterval), p50/p95/max of
# N rotations on NODE (kwok, real), then the plane's warm up and down times.
bench-e2e rotations="20" node="kwok":
    bench/e2e.sh {{rotations}} {{node}}

# N ExternalSecrets (default 1,000) against one vault on kwok: time to all synced, Key Vault
# requests per second, peak RSS and CPU of the bench and of ESO, the same after rotating all.
# ESO's defaults pace it at ~10 ExternalSecrets/s; raise them with e.g.
# `just bench-scale 5000 --eso-arg=--client-qps=500 --eso-arg=--client-burst=1000 --eso-arg=--concurrent=4`.
bench-scale n="1000" *args:
    cargo build --release -q -p harness
    python3 bench/scale.py {{n}} {{args}}

# Local control plane: warm up-to-ready and down times (add --cold for cold build times).
bench-plane *args:
    bench/plane.sh {{args}}

# Fuzz the parsers that take untrusted input (cargo fuzz, nightly): SECONDS per target, all
# targets unless named (akv_request, aad_token, proxy_head, scenario_yaml).
fuzz seconds="60" *targets:
    fuzz/run.sh {{seconds}} {{targets}}
