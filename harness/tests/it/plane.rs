//! The local control plane with real binaries from the cache (`harness deps`): start, a
//! Deployment rolled out by kube-controller-manager + kube-scheduler + kwok, a template change
//! rolled out again, stop; and failed starts that must leave no process behind.
//!
//! The binaries come from the cache that `harness deps` fills (or the `HARNESS_*_BIN`
//! overrides); when they are missing the tests build them first.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use harness::cluster::{Cluster, LocalPlane, NODE_NAME, PlaneError, PlaneOptions, ports};
use harness::deps::{Assets, Binaries, DepsConfig};
use harness::k8s::wait::{is_deployment_rolled_out, pod_ready};
use harness::k8s::wait_for;
use harness::supervise::process_exists;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams};

pub(crate) fn plane_options(run_dir: &Path) -> PlaneOptions {
    let config = DepsConfig::from_env();
    // Builds what a fresh machine lacks (about 30 minutes on 2 cores, once per version).
    let binaries = Binaries::ensure(&config).expect("control-plane binaries build");
    let assets = Assets::locate(&config).expect("ESO CRDs and kwok stages");
    let mut options = PlaneOptions::new(run_dir, binaries, assets);
    options.grace = Duration::from_secs(5);
    options
}

/// Processes whose command line or environment mentions `needle` (every child's arguments or
/// its `KUBECONFIG` name the run dir).
pub(crate) fn processes_mentioning(needle: &str) -> Vec<(u32, String)> {
    let me = std::process::id();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if pid == me || !process_exists(pid) {
            continue;
        }
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if cmdline.contains(needle) || String::from_utf8_lossy(&environ).contains(needle) {
            found.push((pid, cmdline));
        }
    }
    found
}

/// A fake program that writes `marker` to stderr, leaves a grandchild in its process group
/// (whose command line names `run_dir`) and exits 3.
fn bogus_program(dir: &Path, name: &str, marker: &str, run_dir: &Path) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nsh -c 'sleep 300; :' {run} &\necho \"{marker}: refusing to start\" >&2\nexit 3\n",
            run = run_dir.display()
        ),
    )
    .expect("write script");
    let status = Command::new("chmod")
        .arg("+x")
        .arg(&path)
        .status()
        .expect("chmod");
    assert!(status.success());
    path
}

const NAMESPACE_AND_DEPLOYMENT: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: plane-test
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: plane-test
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.k8s.io/pause:3.10
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plane_rolls_out_a_deployment_and_leaves_no_process_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run_dir = dir.path().join("run");
    let run_dir_text = run_dir.display().to_string();
    let started = Instant::now();
    let plane = tokio::time::timeout(
        Duration::from_secs(240),
        LocalPlane::start(plane_options(&run_dir)),
    )
    .await
    .expect("plane starts within 240s")
    .unwrap_or_else(|e| panic!("plane start failed: {e}"));
    eprintln!(
        "plane ready in {:.2}s: {:?}",
        started.elapsed().as_secs_f64(),
        plane
            .timings()
            .iter()
            .map(|t| format!("{} {:.2}s", t.name, t.ready_after.as_secs_f64()))
            .collect::<Vec<_>>()
    );
    let child_pids = plane.pids();
    let plane_ports = plane.ports().to_vec();
    assert_eq!(
        child_pids.len(),
        6,
        "etcd, apiserver, kcm, scheduler, kwok, ESO"
    );
    assert!(run_dir.join("kubeconfig").is_file());
    assert!(run_dir.join("logs/kube-apiserver.err.log").is_file());

    let scenario = Box::pin(roll_out_twice(&plane));
    tokio::time::timeout(Duration::from_secs(200), scenario)
        .await
        .expect("scenario within 200s");

    let stopping = Instant::now();
    plane.stop().await;
    eprintln!("plane stopped in {:.2}s", stopping.elapsed().as_secs_f64());
    for pid in &child_pids {
        assert!(!process_exists(*pid), "child {pid} survived stop");
    }
    assert_eq!(processes_mentioning(&run_dir_text), Vec::new());
    for port in plane_ports {
        assert!(ports::is_free(port), "port {port} still in use");
    }
    assert!(!run_dir.join("pids.json").exists());
    assert!(!run_dir.join("plane.json").exists());
}

/// Namespace + Deployment, first rollout Ready through kwok, then a template change that must
/// roll out a second ReplicaSet (what Reloader does to a workload).
async fn roll_out_twice(plane: &LocalPlane) {
    // The issuer publishes its keys to anonymous clients (for fake-aad).
    let jwks = plane.service_account_jwks().await.expect("JWKS");
    assert!(
        jwks["keys"].as_array().is_some_and(|k| !k.is_empty()),
        "{jwks}"
    );
    assert!(plane.issuer().starts_with("https://127.0.0.1:"));

    plane
        .apply(NAMESPACE_AND_DEPLOYMENT)
        .await
        .expect("apply namespace and deployment");
    let client = plane.client();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "plane-test");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "plane-test");
    let replica_sets: Api<ReplicaSet> = Api::namespaced(client.clone(), "plane-test");
    rolled_out(plane, &deployments, "first rollout").await;
    let listed = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .expect("list pods");
    assert_eq!(listed.items.len(), 1);
    let pod = &listed.items[0];
    assert!(pod_ready(pod), "kwok made the pod Ready: {:?}", pod.status);
    assert_eq!(
        pod.spec.as_ref().and_then(|s| s.node_name.as_deref()),
        Some(NODE_NAME)
    );
    let first_rs: Vec<String> = replica_sets
        .list(&ListParams::default())
        .await
        .expect("list replica sets")
        .items
        .into_iter()
        .filter_map(|rs| rs.metadata.name)
        .collect();
    assert_eq!(first_rs.len(), 1);

    // A pod-template change is what Reloader does: it must roll out a new ReplicaSet.
    let patch = serde_json::json!({
        "spec": {"template": {"metadata": {"annotations": {"harness.test/restartedAt": "1"}}}}
    });
    deployments
        .patch("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch template");
    let rolled = rolled_out(plane, &deployments, "second rollout").await;
    assert!(rolled.status.as_ref().and_then(|s| s.observed_generation) >= Some(2));
    let all_rs = replica_sets
        .list(&ListParams::default())
        .await
        .expect("list replica sets")
        .items;
    assert_eq!(all_rs.len(), 2, "old and new ReplicaSet");
    let new_rs = all_rs
        .iter()
        .find(|rs| !first_rs.contains(rs.metadata.name.as_ref().expect("name")))
        .expect("a new ReplicaSet");
    assert_eq!(
        new_rs.status.as_ref().and_then(|s| s.ready_replicas),
        Some(1)
    );
    let old_rs = all_rs
        .iter()
        .find(|rs| first_rs.contains(rs.metadata.name.as_ref().expect("name")))
        .expect("the old ReplicaSet");
    assert_eq!(old_rs.spec.replicas, Some(0));
}

/// Waits for `web` to roll out; on a timeout, fails with what explains it: the Deployment's
/// status, the namespace's events and the end of kube-controller-manager's log (this wait
/// once timed out on a loaded machine, and passed alone in seconds).
async fn rolled_out(plane: &LocalPlane, deployments: &Api<Deployment>, what: &str) -> Deployment {
    let waited = wait_for(
        deployments.clone(),
        "web",
        is_deployment_rolled_out(),
        Duration::from_secs(90),
    )
    .await;
    if let Ok(Some(deployment)) = waited {
        return deployment;
    }
    let status = deployments.get("web").await.map(|d| d.status);
    let events: Api<Event> = Api::namespaced(plane.client(), "plane-test");
    let events: Vec<String> = match events.list(&ListParams::default()).await {
        Ok(list) => list
            .items
            .into_iter()
            .map(|e| {
                let object = e.involved_object.name.unwrap_or_default();
                let reason = e.reason.unwrap_or_default();
                let message = e.message.unwrap_or_default();
                format!("{object} {reason}: {message}")
            })
            .collect(),
        Err(error) => vec![format!("events unreadable: {error}")],
    };
    let log = std::fs::read_to_string(plane.run_dir().join("logs/kube-controller-manager.err.log"))
        .unwrap_or_else(|error| format!("unreadable: {error}"));
    let tail: Vec<&str> = log.lines().rev().take(30).collect();
    panic!(
        "{what}: {waited:?}\nstatus: {status:?}\nevents:\n{}\nkube-controller-manager (newest first):\n{}",
        events.join("\n"),
        tail.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plane_start_failure_stops_started_children_and_quotes_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run_dir = dir.path().join("run");
    let mut options = plane_options(&run_dir);
    // etcd starts for real; the bogus apiserver fails after it, so etcd must be stopped too.
    options.binaries.kube_apiserver.path = bogus_program(
        dir.path(),
        "kube-apiserver",
        "bogus-apiserver-7f3a",
        &run_dir,
    );
    let error = tokio::time::timeout(Duration::from_secs(60), LocalPlane::start(options))
        .await
        .expect("fails within 60s")
        .expect_err("a bogus kube-apiserver cannot start");
    let PlaneError::Spawn(spawn) = &error else {
        panic!("expected a spawn error, got {error}");
    };
    assert!(spawn.is_exit(), "{spawn}");
    assert_eq!(spawn.name, "kube-apiserver");
    assert_eq!(spawn.status.and_then(|s| s.code()), Some(3));
    assert!(
        spawn
            .stderr_tail
            .contains("bogus-apiserver-7f3a: refusing to start"),
        "{spawn}"
    );
    let shown = error.to_string();
    assert!(shown.contains("--etcd-servers="), "args are shown: {shown}");
    assert!(shown.contains("bogus-apiserver-7f3a"), "{shown}");
    assert_eq!(
        processes_mentioning(&run_dir.display().to_string()),
        Vec::new()
    );
    assert!(!run_dir.join("pids.json").exists());
}

#[test]
fn up_with_a_bogus_etcd_override_exits_2_and_leaves_no_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run_dir = dir.path().join("run");
    let _reap = ReapOnDrop(&run_dir);
    let etcd = bogus_program(dir.path(), "etcd", "bogus-etcd-19c2", &run_dir);
    let output = Command::new(assert_cmd::cargo::cargo_bin("harness"))
        .args(["up", "--no-eso", "--timeout", "30", "--run-dir"])
        .arg(&run_dir)
        .env("HARNESS_ETCD_BIN", &etcd)
        .output()
        .expect("harness runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bogus-etcd-19c2: refusing to start"),
        "{stderr}"
    );
    assert!(stderr.contains("exited (exit status: 3)"), "{stderr}");
    assert_eq!(
        processes_mentioning(&run_dir.display().to_string()),
        Vec::new()
    );
}

/// Reaps whatever the run directory's pidfile names when the test ends, also on panic, so a
/// failing CLI test leaves no orphaned plane behind.
pub(crate) struct ReapOnDrop<'a>(&'a Path);

impl Drop for ReapOnDrop<'_> {
    fn drop(&mut self) {
        let _ = harness::supervise::pidfile::reap(self.0, Duration::from_secs(2));
    }
}

/// `harness up` in the background, until it prints the kubeconfig export (all ready).
pub(crate) fn spawn_up(run_dir: &Path, node: &str) -> (std::process::Child, Duration) {
    use std::io::{BufRead, BufReader};
    let started = Instant::now();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("harness"))
        .args(["up", "--no-eso", "--node", node, "--run-dir"])
        .arg(run_dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("harness up starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    // `up` prints this line only once everything is ready; EOF means it failed.
    let ready = lines.any(|line| line.is_ok_and(|l| l.starts_with("export KUBECONFIG=")));
    assert!(
        ready,
        "harness up exited before ready; see {}/logs",
        run_dir.display()
    );
    // Keep reading so the pipe stays open for whatever `up` prints next.
    std::thread::spawn(move || lines.for_each(drop));
    (child, started.elapsed())
}

fn harness(args: &[&str], run_dir: &Path) -> (i32, String) {
    let output = Command::new(assert_cmd::cargo::cargo_bin("harness"))
        .args(args)
        .arg("--run-dir")
        .arg(run_dir)
        .output()
        .expect("harness runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn up_status_down_keep_and_then_stop_a_plane() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run_dir = dir.path().join("run");
    let _reap = ReapOnDrop(&run_dir);
    let (mut up, took) = spawn_up(&run_dir, "kwok");
    eprintln!("harness up (no ESO) ready in {:.2}s", took.as_secs_f64());

    let (code, status) = harness(&["status"], &run_dir);
    assert_eq!(code, 0, "{status}");
    for expected in ["kube-apiserver", "v1.37.2", "kwok", "running"] {
        assert!(status.contains(expected), "{expected} in:\n{status}");
    }

    let started = Instant::now();
    let (code, down) = harness(&["down"], &run_dir);
    eprintln!("harness down in {:.2}s", started.elapsed().as_secs_f64());
    assert_eq!(code, 0, "{down}");
    assert!(down.contains("(it stopped its children)"), "{down}");
    assert!(down.contains("ports free"), "{down}");
    let exit = up.wait().expect("up exits");
    assert!(exit.success(), "up exits 0 after SIGTERM: {exit}");
    assert_eq!(
        processes_mentioning(&run_dir.display().to_string()),
        Vec::new()
    );
    let (code, status) = harness(&["status"], &run_dir);
    assert_eq!(code, 1, "{status}");
    assert!(status.contains("no plane"), "{status}");
}

/// Waits (up to `limit`) until no process mentions `needle` in its command line or
/// environment, and answers those that still do.
pub(crate) fn gone_within(needle: &str, limit: Duration) -> Vec<(u32, String)> {
    let deadline = Instant::now() + limit;
    loop {
        let left = processes_mentioning(needle);
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn up_killed_hard_takes_its_children_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run_dir = dir.path().join("run");
    let _reap = ReapOnDrop(&run_dir);
    let run_dir_text = run_dir.display().to_string();
    let (mut up, _) = spawn_up(&run_dir, "kwok");
    assert!(
        !processes_mentioning(&run_dir_text).is_empty(),
        "the plane's children name the run directory"
    );
    // SIGKILL: no Drop, no signal handler. The kernel closes the children's lifeline.
    let killed = Instant::now();
    up.kill().expect("SIGKILL harness up");
    up.wait().expect("reap harness up");
    let left = gone_within(&run_dir_text, Duration::from_secs(10));
    assert_eq!(left, Vec::new(), "children outlived a SIGKILLed harness up");
    eprintln!(
        "children gone {:.2}s after SIGKILL",
        killed.elapsed().as_secs_f64()
    );
    // `harness down` still cleans the pidfile the dead harness left.
    let (code, down) = harness(&["down", "--grace", "5"], &run_dir);
    assert_eq!(code, 0, "{down}");
    let (code, status) = harness(&["status"], &run_dir);
    assert_eq!(code, 1, "{status}");
}

/// `harness run` of `scenario` (YAML) with its run directory under `<dir>/tmp`, once a line of
/// its report satisfies `ready`; returns the process and that folder. The reader keeps
/// draining stdout afterwards.
fn spawn_run(
    dir: &Path,
    scenario: &str,
    ready: impl Fn(&str) -> bool,
) -> (std::process::Child, std::path::PathBuf) {
    use std::io::{BufRead, BufReader};
    let file = dir.join("long.yaml");
    std::fs::write(&file, scenario).expect("write the scenario");
    // `harness run` keeps its plane (and each scenario's Reloader) under the temp dir.
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp");
    let mut run = Command::new(assert_cmd::cargo::cargo_bin("harness"))
        .arg("run")
        .args(["--node", "kwok"])
        .arg(&file)
        .env("TMPDIR", &tmp)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("harness run starts");
    let stdout = run.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let seen = lines.any(|line| line.is_ok_and(|l| ready(&l)));
    assert!(seen, "harness run exited before the scenario ran");
    std::thread::spawn(move || lines.for_each(drop));
    (run, tmp)
}

/// `harness run` SIGKILLed while a scenario runs (the plane, ESO and the scenario's own
/// Reloader up): every child is gone within seconds.
#[test]
fn run_killed_hard_mid_scenario_takes_its_children_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut run, tmp) = spawn_run(
        dir.path(),
        "name: long\ncomponents: { eso: true, reloader: true }\nsteps:\n  - apply:\n      manifest: |\n        apiVersion: v1\n        kind: ConfigMap\n        metadata: { name: started }\n  - sleep: { duration: 5m }\n    timeout: 6m\n",
        |line| line.contains("PASS") && line.contains("apply"),
    );
    let tmp_text = tmp.display().to_string();
    let before = processes_mentioning(&tmp_text);
    assert!(
        before.iter().any(|(_, line)| line.contains("reloader")),
        "the scenario's Reloader runs: {before:#?}"
    );
    run.kill().expect("SIGKILL harness run");
    run.wait().expect("reap harness run");
    let left = gone_within(&tmp_text, Duration::from_secs(10));
    assert_eq!(
        left,
        Vec::new(),
        "children outlived a SIGKILLed harness run"
    );
}

#[test]
fn sigterm_during_up_start_stops_what_was_started() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run_dir = dir.path().join("run");
    let _reap = ReapOnDrop(&run_dir);
    let mut up = Command::new(assert_cmd::cargo::cargo_bin("harness"))
        .args(["up", "--node", "kwok", "--run-dir"])
        .arg(&run_dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("harness up starts");
    // Wait until at least etcd is recorded, then interrupt the start.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let started = harness::supervise::pidfile::read(&run_dir)
            .ok()
            .flatten()
            .is_some_and(|c| !c.children.is_empty());
        if started {
            break;
        }
        assert!(Instant::now() < deadline, "no child recorded within 60s");
        std::thread::sleep(Duration::from_millis(20));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(up.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    let status = up.wait().expect("up exits");
    assert!(
        !status.success(),
        "interrupted start is not a success: {status}"
    );
    assert_eq!(
        processes_mentioning(&run_dir.display().to_string()),
        Vec::new()
    );
}

/// Ctrl-C while `harness run` runs scenarios on its plane: the run stops, says so (exit 2) and
/// leaves no process of its plane behind.
#[test]
fn sigint_during_harness_run_stops_its_plane() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Should the test fail before the signal, the run still ends (and stops its plane) once
    // the scenario's 60s are over. Its header is printed once the plane is ready.
    let (mut run, tmp) = spawn_run(
        dir.path(),
        "name: long\ncomponents: { eso: true }\nsteps:\n  - sleep: { duration: 60s }\n",
        |line| line.starts_with("long ("),
    );
    assert_ne!(processes_mentioning(&tmp.display().to_string()), Vec::new());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(run.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT");
    let status = run.wait().expect("run exits");
    assert_eq!(
        status.code(),
        Some(2),
        "an interrupted run could not finish"
    );
    assert_eq!(processes_mentioning(&tmp.display().to_string()), Vec::new());
}
