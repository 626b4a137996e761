#!/usr/bin/env bash
# Throughput and latency of fake-akv (GET and SET secret, auth on, TLS, keep-alive) against
# nginx serving a same-sized static JSON body over TLS on this machine. fake-akv runs twice:
# in memory (no state file: the default for tests and scenarios) and durable (`harness serve
# --state-dir`: every acknowledged write journaled and fsynced). nginx gets byte for byte the
# requests fake-akv gets (bearer token, path, query, and for SET the PUT and its body), so the
# client does the same work against both; it answers every one with the static body. A row
# "nginx-bare" shows nginx without the token header, for comparison with earlier figures.
# Runs alternate between the servers, ROUNDS times (default 3), and each row is the run with
# the median req/s. Prints req/s, p50, p99 and the ratio to nginx per operation and
# concurrency level. Usage: bench/akv.sh [seconds-per-run]
# AKV_BENCH_BIN=DIR measures the `harness` and `fake-akv` binaries in DIR (e.g. a copy of an
# earlier build) instead of building the current tree.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-5}"
ROUNDS="${ROUNDS:-3}"
CONNECTIONS=(1 16 64)

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk || ! need nginx; then
    echo "installing wrk and nginx-light (Debian packages)..." >&2
    apt-get update -qq >/dev/null && apt-get install -y -qq wrk nginx-light >/dev/null
fi

BIN="${AKV_BENCH_BIN:-target/release}"
[ -n "${AKV_BENCH_BIN:-}" ] || cargo build --release -q -p harness -p fake-akv
WORK="$(mktemp -d)"
cleanup() {
    [ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null || true
    [ -n "${MEMORY_PID:-}" ] && kill "$MEMORY_PID" 2>/dev/null || true
    [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# Durable: the whole bench (fake-aad, fake-akv with a state directory, proxy).
"$BIN/harness" serve --state-dir "$WORK/state" --env-file "$WORK/e.env" >/dev/null 2>"$WORK/serve.log" &
SERVE_PID=$!
for _ in $(seq 100); do [ -s "$WORK/e.env" ] && break; sleep 0.1; done
value() { sed -n "s/^export $1='\{0,1\}\([^']*\)'\{0,1\}$/\1/p" "$WORK/e.env"; }
AAD="$(value FAKE_AAD_ENDPOINT)"; DURABLE="$(value FAKE_AKV_ENDPOINT)"
TENANT="$(value AZURE_TENANT_ID)"; CLIENT="$(value AZURE_CLIENT_ID)"; SECRET="$(value AZURE_CLIENT_SECRET)"
CA="$WORK/state/ca.pem"

# In memory: the same vaults, trusting the same fake-aad, no state file.
"$BIN/fake-akv" --config "$WORK/state/vaults.json" --aad-url "$AAD" --aad-ca "$CA" \
    --state-dir "$WORK/state" >"$WORK/memory.out" 2>"$WORK/memory.log" &
MEMORY_PID=$!
for _ in $(seq 100); do grep -q 'listening on' "$WORK/memory.out" 2>/dev/null && break; sleep 0.1; done
MEMORY="$(sed -n 's/^fake-akv listening on //p' "$WORK/memory.out")"

TOKEN="$(curl -sS --noproxy '*' --cacert "$CA" "$AAD/$TENANT/oauth2/v2.0/token" \
    -d grant_type=client_credentials -d "client_id=$CLIENT" --data-urlencode "client_secret=$SECRET" \
    --data-urlencode scope=https://vault.azure.net/.default | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
for AKV in "$MEMORY" "$DURABLE"; do
    curl -sSf --noproxy '*' --cacert "$CA" -X PUT "$AKV/secrets/bench?api-version=7.6" \
        -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d '{"value":"a-benchmark-secret-value-of-ordinary-size"}' >/dev/null
done
curl -sSf --noproxy '*' --cacert "$CA" "$DURABLE/secrets/bench/?api-version=7.6" -H "Authorization: Bearer $TOKEN" >"$WORK/body.json"
BODY_BYTES="$(wc -c <"$WORK/body.json")"

# nginx: same body, TLS with an ECDSA P-256 certificate like fake-akv's, keep-alive on. Every
# path answers with the body; a PUT's 405 becomes the same 200 (error_page), so SET can send
# nginx the very PUT that fake-akv gets.
mkdir -p "$WORK/www"
cp "$WORK/body.json" "$WORK/www/body.json"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -keyout "$WORK/nginx.key" -out "$WORK/nginx.crt" 2>/dev/null
NGINX_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
NGINX="https://127.0.0.1:$NGINX_PORT"
cat >"$WORK/nginx.conf" <<CONF
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx.error.log;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$NGINX_PORT ssl;
        ssl_certificate $WORK/nginx.crt;
        ssl_certificate_key $WORK/nginx.key;
        root $WORK/www;
        location / {
            default_type "application/json; charset=utf-8";
            try_files /body.json =404;
            error_page 405 =200 \$uri;
        }
    }
}
CONF
# nginx workers drop privileges; let them read the body.
chmod 755 "$WORK" && chmod -R a+rX "$WORK/www"
nginx -c "$WORK/nginx.conf" -p "$WORK"
for method in GET PUT; do
    size="$(curl -sfk -X "$method" -d '{}' -o /dev/null -w '%{size_download}' "$NGINX/secrets/bench?api-version=7.6")" ||
        { cat "$WORK/nginx.error.log" >&2; exit 1; }
    [ "$size" = "$BODY_BYTES" ] || { echo "nginx answered $method with $size bytes, not $BODY_BYTES" >&2; exit 1; }
done

cat >"$WORK/get.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
cat >"$WORK/set.lua" <<LUA
wrk.method = "PUT"
wrk.body = '{"value":"a-benchmark-secret-value-of-ordinary-size"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA

# wrk prints "Requests/sec: N" and, with --latency, "50% 1.23ms" / "99% 4.56ms".
run() { # url script connections -> "rps p50 p99"
    local out
    out="$(wrk --latency -t"$(( $3 < 2 ? $3 : 2 ))" -c"$3" -d"${DURATION}s" ${2:+-s "$2"} "$1")"
    local non2xx
    non2xx="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
    if [ -n "$non2xx" ]; then echo "error: $non2xx non-2xx answers from $1" >&2; exit 1; fi
    awk '/Requests\/sec/ {rps=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2} END {print rps, p50, p99}' <<<"$out"
}
median() { # lines "rps p50 p99" on stdin -> the line with the median rps
    sort -g | awk '{line[NR]=$0} END {print line[int((NR+1)/2)]}'
}
row() { # op conns target rps p50 p99 nginx-rps
    printf '%-4s %-5s %-12s %12s %10s %10s %9s\n' "$1" "$2" "$3" "$4" "$5" "$6" \
        "$(python3 -c "print(f'{$4/$7:.2f}')")"
}

echo "body: $BODY_BYTES bytes; $DURATION s per run, median of $ROUNDS alternating runs; wrk 2 threads; 2 cores shared by client and server; load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-4s %-5s %-12s %12s %10s %10s %9s\n' op conns target req/s p50 p99 vs-nginx
MISSED=""
for c in "${CONNECTIONS[@]}"; do
    for op in GET SET; do
        if [ "$op" = GET ]; then path="/secrets/bench/"; script="$WORK/get.lua"; else path="/secrets/bench"; script="$WORK/set.lua"; fi
        targets=(nginx "$NGINX" akv-memory "$MEMORY" akv-durable "$DURABLE")
        [ "$op" = GET ] && targets+=(nginx-bare "$NGINX")
        declare -A runs=()
        for _ in $(seq "$ROUNDS"); do
            for ((i = 0; i < ${#targets[@]}; i += 2)); do
                name="${targets[i]}"; with="$script"; [ "$name" = nginx-bare ] && with=""
                runs[$name]+="$(run "${targets[i + 1]}$path?api-version=7.6" "$with" "$c")"$'\n'
            done
        done
        read -r n_rps n_p50 n_p99 < <(median <<<"${runs[nginx]}")
        row "$op" "$c" nginx "$n_rps" "$n_p50" "$n_p99" "$n_rps"
        for ((i = 2; i < ${#targets[@]}; i += 2)); do
            name="${targets[i]}"
            read -r rps p50 p99 < <(median <<<"${runs[$name]}")
            row "$op" "$c" "$name" "$rps" "$p50" "$p99" "$n_rps"
            if [ "$name" = akv-memory ] && [ "$c" -gt 1 ] && awk -v got="$rps" -v ceiling="$n_rps" 'BEGIN { exit !(got < 0.8 * ceiling) }'; then
                MISSED+=" $op/c=$c"
            fi
        done
        unset runs
    done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
# The target (issue 3): in memory, at least 0.8 of nginx. c=1 is left out: one connection's
# latency is bimodal for both servers (about 20 or 90 us), so its ratio is noise.
if [ -n "$MISSED" ]; then echo "target 0.8 of nginx (akv-memory, c>1): missed at$MISSED"; else echo "target 0.8 of nginx (akv-memory, c>1): met"; fi
