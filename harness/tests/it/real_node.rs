//! The real node: containerd and kubelet on this host run the pods for real (an image from the
//! bench's registry, a Secret's value in the environment and in a mounted file, the log, `exec`),
//! and leave nothing behind on the host, whether the plane stops cleanly or the harness is
//! killed with SIGKILL. Needs root (as CI runs); installs containerd, runc and the CNI plugins
//! with apt-get when they are missing.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use harness::cluster::{Cluster, LocalPlane};
use harness::deps::DepsConfig;
use harness::k8s::wait::pod_ready;
use harness::k8s::wait_for;
use harness::node::{Node, NodeKind};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams, LogParams};
use tokio::io::AsyncReadExt;
use tokio::sync::Mutex;

use crate::plane::{gone_within, plane_options, processes_mentioning, spawn_up};

/// One real node at a time: the host-wide comparison below would otherwise see another test's.
static ONE_NODE: Mutex<()> = Mutex::const_new(());

/// What a node may change on the host, read off the host.
fn host_state() -> BTreeMap<&'static str, String> {
    let run = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    };
    let links: Vec<String> = run("ip", &["-o", "link", "show"])
        .lines()
        .filter_map(|l| l.split(": ").nth(1).map(str::to_owned))
        .collect();
    // Rules and chains without their packet counters.
    let iptables: Vec<String> = run("iptables-save", &[])
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(" [").next().unwrap_or(l).to_owned())
        .collect();
    let mounts: Vec<String> = std::fs::read_to_string("/proc/self/mounts")
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            ["containerd", "kubelet", "netns", "akv-e2e"]
                .iter()
                .any(|n| l.contains(n))
        })
        .map(str::to_owned)
        .collect();
    let cgroups: Vec<String> = std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|h| std::fs::read_dir(h.path()).into_iter().flatten().flatten())
        .map(|e| e.path().display().to_string())
        .filter(|p| p.contains("akv-e2e") || p.ends_with("/kubepods"))
        .collect();
    let sysctls: Vec<String> = [
        "vm/overcommit_memory",
        "kernel/panic",
        "kernel/panic_on_oops",
        "net/ipv4/ip_forward",
    ]
    .iter()
    .map(|k| {
        format!(
            "{k}={}",
            std::fs::read_to_string(Path::new("/proc/sys").join(k))
                .unwrap_or_default()
                .trim()
        )
    })
    .collect();
    let paths: Vec<String> = [
        "/run/containerd",
        "/var/lib/cni",
        "/var/lib/kubelet",
        "/etc/cni",
    ]
    .iter()
    .filter(|p| Path::new(p).exists())
    .map(|p| (*p).to_owned())
    .collect();
    let processes: Vec<String> = ["containerd", "kubelet", "crane registry"]
        .iter()
        .flat_map(|needle| processes_mentioning(needle))
        .map(|(_, line)| line)
        // The node's own programs only: a plane's API server mentions kubelet in its flags,
        // and tests run beside this one start planes of their own. Each test checks its own
        // plane's processes by its run directory.
        .filter(|l| {
            let program = l.split_whitespace().next().unwrap_or_default();
            let name = Path::new(program)
                .file_name()
                .unwrap_or_default()
                .to_string_lossy();
            name.starts_with("containerd") || name == "kubelet" || name == "crane"
        })
        .collect();
    BTreeMap::from([
        ("links", links.join("\n")),
        ("netns", run("ip", &["netns", "list"])),
        ("iptables", iptables.join("\n")),
        ("mounts", mounts.join("\n")),
        ("cgroups", cgroups.join("\n")),
        ("sysctls", sysctls.join("\n")),
        ("paths", paths.join("\n")),
        ("processes", processes.join("\n")),
    ])
}

/// Waits until the host is as it was (the kernel releases some things a moment after their
/// process dies), then compares.
fn assert_host_restored(before: &BTreeMap<&'static str, String>, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let now = host_state();
        if &now == before {
            return;
        }
        if Instant::now() > deadline {
            for (key, was) in before {
                assert_eq!(&now[key], was, "the node left {key} changed");
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

const APP: &str = r#"
apiVersion: v1
kind: Secret
metadata: { name: app-secrets, namespace: default }
stringData: { password: first }
---
apiVersion: v1
kind: Pod
metadata: { name: app, namespace: default }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: app
      image: busybox:latest
      command: ["sh", "-c", "echo \"Password: $APP_PASSWORD\"; sleep 3600"]
      env:
        - name: APP_PASSWORD
          valueFrom: { secretKeyRef: { name: app-secrets, key: password } }
      volumeMounts: [{ name: s, mountPath: /etc/app }]
  volumes: [{ name: s, secret: { secretName: app-secrets } }]
"#;

async fn exec(pods: &Api<Pod>, command: &[&str]) -> String {
    let mut process = pods
        .exec(
            "app",
            command.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
            &AttachParams::default().stderr(false),
        )
        .await
        .expect("exec");
    let mut out = String::new();
    process
        .stdout()
        .expect("stdout")
        .read_to_string(&mut out)
        .await
        .expect("read stdout");
    let _ = process.join().await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_node_runs_the_app_and_a_stop_leaves_nothing_behind() {
    let _one = ONE_NODE.lock().await;
    let before = host_state();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut options = plane_options(&dir.path().join("run"));
    options.eso = false;
    options.node = Node::choose(NodeKind::Real, &DepsConfig::from_env().node_cache())
        .expect("a real node can run here (root, Linux); run the tests as root, as CI does");
    let plane = LocalPlane::start(options)
        .await
        .expect("plane with a real node");
    let client = plane.client();
    plane.apply(APP).await.expect("apply the app");
    let pods: Api<Pod> = Api::namespaced(client, "default");
    wait_for(
        pods.clone(),
        "app",
        |pod: Option<&Pod>| pod.is_some_and(pod_ready),
        Duration::from_secs(60),
    )
    .await
    .expect("the app's pod is Ready (its image came from the bench's registry)");
    let log = pods.logs("app", &LogParams::default()).await.expect("logs");
    assert_eq!(
        log.trim(),
        "Password: first",
        "the app printed its environment"
    );
    assert_eq!(exec(&pods, &["cat", "/etc/app/password"]).await, "first");
    assert_eq!(exec(&pods, &["id", "-u"]).await.trim(), "0");
    plane.stop().await;
    assert_host_restored(&before, Duration::from_secs(10));
}

#[test]
fn real_node_killed_hard_leaves_nothing_behind() {
    let _one = ONE_NODE.blocking_lock();
    let before = host_state();
    let dir = tempfile::tempdir().expect("tempdir");
    let run_dir = dir.path().join("run");
    let (mut up, ready_after) = spawn_up(&run_dir, "real");
    eprintln!(
        "harness up --node real ready in {:.2}s",
        ready_after.as_secs_f64()
    );
    let kubectl = |args: &[&str]| {
        Command::new(
            harness::deps::resolve(
                &DepsConfig::from_env(),
                harness::deps::Component::Kubectl,
                &mut None,
            )
            .expect("deps")
            .expect("kubectl is built")
            .path,
        )
        .env("KUBECONFIG", run_dir.join("kubeconfig"))
        .args(args)
        .output()
        .expect("kubectl runs")
    };
    let app = dir.path().join("app.yaml");
    std::fs::write(&app, APP).expect("write the app");
    assert!(
        kubectl(&["apply", "-f", &app.display().to_string()])
            .status
            .success()
    );
    let waited = kubectl(&["wait", "--for=condition=Ready", "pod/app", "--timeout=60s"]);
    assert!(
        waited.status.success(),
        "{}",
        String::from_utf8_lossy(&waited.stderr)
    );
    // SIGKILL: no Drop, no handler. The kubelet's guard runs the node's teardown.
    let killed = Instant::now();
    up.kill().expect("SIGKILL harness up");
    up.wait().expect("reap harness up");
    assert_host_restored(&before, Duration::from_secs(20));
    assert_eq!(
        gone_within(&run_dir.display().to_string(), Duration::from_secs(20)),
        Vec::new(),
        "the plane's processes outlived harness up"
    );
    eprintln!(
        "host restored {:.2}s after SIGKILL",
        killed.elapsed().as_secs_f64()
    );
}
