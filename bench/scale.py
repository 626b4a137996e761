#!/usr/bin/env python3
"""ESO at scale against the bench: N ExternalSecrets (default 1,000) across namespaces against
one vault. Starts `harness serve` (fake-aad, fake-akv and the routing proxy, one process) and
`harness up` (the local plane on kwok, its ESO wired to the bench), creates N vault secrets
and N ExternalSecrets (one SecretStore per namespace), then reports:

- time to all `SecretSynced`, and Key Vault requests per second while they sync;
- Key Vault requests per second at steady refresh (one refreshInterval, default 60s);
- after a rotation of every secret and a force-sync of every ExternalSecret, time until every
  Secret holds its new value;
- peak RSS (VmHWM) and CPU (user + system, as a share of one core) of the bench process and of
  ESO, per phase, from /proc.

ESO's own client limits (`--client-qps` 50, `--client-burst` 100, `--concurrent` 1) pace it
at about ten ExternalSecrets a second whatever the vault does; `--eso-arg` raises them.

Usage: bench/scale.py N [--namespaces K] [--refresh 60s] [--harness PATH] [--eso-arg FLAG].
Stdlib only; the harness binary and the plane's kubectl (`harness deps`) do the rest. Traffic
stays on loopback.
"""

import argparse
import base64
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

API = "api-version=7.6"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=1000)
    parser.add_argument("--namespaces", type=int, default=10)
    parser.add_argument("--refresh", default="60s")
    parser.add_argument("--harness", default="target/release/harness")
    parser.add_argument(
        "--eso-arg",
        action="append",
        default=[],
        help="a flag for ESO, e.g. --eso-arg=--client-qps=500 (repeatable)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as work:
        Bench(args, Path(work)).run()


class Proc:
    """CPU seconds and peak RSS of one process, read from /proc."""

    def __init__(self, name, pid):
        self.name, self.pid = name, pid
        self.mark = self.cpu()

    def cpu(self):
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_mb(self):
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def rss_mb(self):
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def share(self, seconds):
        """CPU used since the last call, as a share of one core over `seconds`."""
        now = self.cpu()
        used, self.mark = now - self.mark, now
        return used / seconds if seconds > 0 else float("nan")


class Bench:
    def __init__(self, args, work):
        self.args, self.work = args, work
        self.children = []
        self.rows = []
        self.audit_seq = self.audit_total = 0

    def run(self):
        try:
            self.start()
            self.measure()
        finally:
            self.stop()
        self.print_table()

    # -- set-up ---------------------------------------------------------------------------

    def start(self):
        harness = self.args.harness
        deps = subprocess.run([harness, "deps"], check=True, capture_output=True, text=True)
        self.kubectl = next(
            line.split()[2] for line in deps.stdout.splitlines() if line.startswith("kubectl ")
        )
        env_file = self.work / "bench.env"
        serve = subprocess.Popen(
            [harness, "serve", "--state-dir", str(self.work / "state"), "--env-file", str(env_file)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.work / "serve.log", "w"),
        )
        self.children.append(serve)
        self.env = wait_for_env(env_file, serve)
        self.serve = serve.pid
        ca = ssl.create_default_context(cafile=str(self.work / "state" / "ca.pem"))
        self.tls = ca
        self.token = self.vault_token()

        eso_env = [f"--eso-env={k}={self.env[k]}" for k in ("HTTPS_PROXY", "SSL_CERT_FILE")]
        eso_env += [f"--eso-arg={flag}" for flag in self.args.eso_arg]
        up_log = open(self.work / "up.log", "w")
        up = subprocess.Popen(
            [harness, "up", "--run-dir", str(self.work / "plane"), "--node", "kwok", *eso_env],
            stdout=up_log,
            stderr=up_log,
            start_new_session=True,
        )
        self.children.append(up)
        deadline = time.time() + 300
        while "harness up: running" not in (self.work / "up.log").read_text():
            if up.poll() is not None or time.time() > deadline:
                sys.exit("harness up did not start:\n" + (self.work / "up.log").read_text())
            time.sleep(0.2)
        self.kubeconfig = str(self.work / "plane" / "kubeconfig")
        self.eso = eso_pid(up.pid)

    def vault_token(self):
        body = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": self.env["AZURE_CLIENT_ID"],
                "client_secret": self.env["AZURE_CLIENT_SECRET"],
                "scope": "https://vault.azure.net/.default",
            }
        ).encode()
        url = f"{self.env['FAKE_AAD_ENDPOINT']}/{self.env['AZURE_TENANT_ID']}/oauth2/v2.0/token"
        with self.open(urllib.request.Request(url, data=body)) as response:
            return json.load(response)["access_token"]

    def open(self, request):
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=self.tls)
        )
        return opener.open(request, timeout=30)

    def set_secrets(self, generation):
        def put(i):
            request = urllib.request.Request(
                f"{self.env['FAKE_AKV_ENDPOINT']}/secrets/scale-{i}?{API}",
                data=json.dumps({"value": value(i, generation)}).encode(),
                method="PUT",
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            )
            with self.open(request) as response:
                response.read()

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(put, range(self.args.n)))

    def requests(self):
        """Key Vault requests so far (fake-akv's audit log, read from where it was last read)."""
        url = f"{self.env['FAKE_AKV_ENDPOINT']}/_emulator/audit?since={self.audit_seq}"
        with self.open(urllib.request.Request(url)) as response:
            entries = json.load(response)
        if entries:
            self.audit_seq = entries[-1]["seq"]
        self.audit_total += len(entries)
        return self.audit_total

    def kube(self, *args, stdin=None):
        return subprocess.run(
            [self.kubectl, "--kubeconfig", self.kubeconfig, *args],
            input=stdin,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def manifests(self):
        n, k = self.args.n, self.args.namespaces
        docs = []
        for ns in range(k):
            name = f"scale-{ns}"
            docs += [
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": "azure-credentials", "namespace": name},
                    "stringData": {
                        "client-id": self.env["AZURE_CLIENT_ID"],
                        "client-secret": self.env["AZURE_CLIENT_SECRET"],
                    },
                },
                {
                    "apiVersion": "external-secrets.io/v1",
                    "kind": "SecretStore",
                    "metadata": {"name": "azure", "namespace": name},
                    "spec": {
                        "provider": {
                            "azurekv": {
                                "authType": "ServicePrincipal",
                                "vaultUrl": self.env["AZURE_KEYVAULT_URL"],
                                "tenantId": self.env["AZURE_TENANT_ID"],
                                "authSecretRef": {
                                    "clientId": {"name": "azure-credentials", "key": "client-id"},
                                    "clientSecret": {"name": "azure-credentials", "key": "client-secret"},
                                },
                            }
                        }
                    },
                },
            ]
        for i in range(n):
            docs.append(
                {
                    "apiVersion": "external-secrets.io/v1",
                    "kind": "ExternalSecret",
                    "metadata": {"name": f"scale-{i}", "namespace": f"scale-{i % k}"},
                    "spec": {
                        "refreshInterval": self.args.refresh,
                        "secretStoreRef": {"kind": "SecretStore", "name": "azure"},
                        "target": {"name": f"scale-{i}"},
                        "data": [{"secretKey": "value", "remoteRef": {"key": f"scale-{i}"}}],
                    },
                }
            )
        return json.dumps({"apiVersion": "v1", "kind": "List", "items": docs})

    # -- phases ---------------------------------------------------------------------------

    def measure(self):
        n = self.args.n
        procs = [Proc("bench (fake-aad + fake-akv + proxy)", self.serve), Proc("ESO", self.eso)]

        started = time.time()
        self.set_secrets(1)
        self.phase(f"{n} vault secrets set (16 clients)", time.time() - started, procs, None)

        started = time.time()
        seen_before = self.requests()
        self.kube("apply", "-f", "-", stdin=self.manifests())
        applied = time.time() - started
        self.wait(lambda: self.synced() >= n, f"all {n} ExternalSecrets SecretSynced")
        took = time.time() - started
        seen = self.requests()
        self.phase(
            f"apply ({applied:.1f}s) to all {n} SecretSynced",
            took,
            procs,
            (seen - seen_before) / took,
        )

        refresh = parse_seconds(self.args.refresh)
        seen_before = self.requests()
        time.sleep(refresh)
        seen = self.requests()
        self.phase(f"steady refresh ({self.args.refresh})", refresh, procs, (seen - seen_before) / refresh)

        started = time.time()
        seen_before = self.requests()
        self.set_secrets(2)
        self.kube("annotate", "externalsecrets", "--all", "--all-namespaces", "--overwrite", f"force-sync={time.time():.3f}")
        self.wait(lambda: self.rotated() >= n, f"all {n} Secrets hold the rotated value")
        took = time.time() - started
        seen = self.requests()
        self.phase(f"rotate all {n} + force-sync to all Secrets new", took, procs, (seen - seen_before) / took)
        self.peaks = [(p.name, p.peak_mb(), p.rss_mb()) for p in procs]

    def phase(self, name, seconds, procs, rate):
        shares = [p.share(seconds) for p in procs]
        self.rows.append((name, seconds, rate, shares, [p.rss_mb() for p in procs]))
        print(f"  {name}: {seconds:.1f}s", file=sys.stderr, flush=True)

    def synced(self):
        out = self.kube(
            "get", "externalsecrets", "--all-namespaces", "-o",
            'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].reason}{"\\n"}{end}',
        )
        return sum(1 for line in out.splitlines() if line == "SecretSynced")

    def rotated(self):
        out = self.kube(
            "get", "secrets", "--all-namespaces", "-o",
            'jsonpath={range .items[*]}{.metadata.name} {.data.value}{"\\n"}{end}',
        )
        count = 0
        for line in out.splitlines():
            name, _, data = line.partition(" ")
            if name.startswith("scale-") and data:
                i = int(name.removeprefix("scale-"))
                count += base64.b64decode(data).decode() == value(i, 2)
        return count

    def wait(self, done, what, timeout=1800):
        deadline = time.time() + timeout
        while not done():
            if time.time() > deadline:
                sys.exit(f"timed out waiting until {what}")
            time.sleep(0.5)

    def stop(self):
        for child in reversed(self.children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(60)
                except subprocess.TimeoutExpired:
                    child.kill()

    def print_table(self):
        if not self.rows:
            return
        a = self.args
        flags = " ".join(a.eso_arg) or "defaults"
        print(f"{a.n} ExternalSecrets in {a.namespaces} namespaces, one vault, refreshInterval {a.refresh}, kwok, ESO flags {flags}; "
              f"{os.cpu_count()} cores; load now {open('/proc/loadavg').read().split()[:3]}")
        print(f"{'phase':<52} {'seconds':>8} {'KV req/s':>9} {'bench CPU':>10} {'ESO CPU':>8} {'bench RSS':>10} {'ESO RSS':>8}")
        for name, seconds, rate, shares, rss in self.rows:
            rate = "-" if rate is None else f"{rate:.0f}"
            print(f"{name:<52} {seconds:>8.1f} {rate:>9} {shares[0]:>9.0%} {shares[1]:>8.0%} {rss[0]:>8.0f}MB {rss[1]:>6.0f}MB")
        for name, peak, _ in getattr(self, "peaks", []):
            print(f"peak RSS of {name}: {peak:.0f} MB")


def value(i, generation):
    return f"scale-value-{i}-generation-{generation}"


def parse_seconds(text):
    units = {"s": 1, "m": 60, "h": 3600}
    return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)


def wait_for_env(path, child):
    deadline = time.time() + 60
    while not (path.exists() and path.stat().st_size > 0):
        if child.poll() is not None or time.time() > deadline:
            sys.exit("harness serve did not start")
        time.sleep(0.1)
    env = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            key, _, val = line.removeprefix("export ").partition("=")
            env[key] = val.strip("'")
    return env


def eso_pid(up):
    """ESO, a descendant of `harness up`."""
    deadline = time.time() + 60
    while time.time() < deadline:
        out = subprocess.run(["pgrep", "-f", "external-secrets.*--live-addr"], capture_output=True, text=True).stdout
        for pid in map(int, out.split()):
            if descends_from(pid, up):
                return pid
        time.sleep(0.2)
    sys.exit("ESO is not running under harness up")


def descends_from(pid, ancestor):
    while pid > 1:
        if pid == ancestor:
            return True
        stat = Path(f"/proc/{pid}/stat").read_text()
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return False


if __name__ == "__main__":
    main()
