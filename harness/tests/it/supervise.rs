//! `supervise::Supervisor` with plain shell children: process groups, SIGTERM → SIGKILL,
//! readiness deadlines that quote stderr, `Drop`, and reaping what a dead harness left.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use harness::supervise::pidfile::{self, Contents, Recorded};
use harness::supervise::{ChildSpec, Supervisor, process_exists};

fn sh(name: &str, script: &str) -> ChildSpec {
    ChildSpec::new(name, "/bin/sh").args(["-c", script])
}

fn read_log(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join("logs").join(file)).unwrap_or_default()
}

/// Waits (bounded) until the child's stdout log holds one line; returns it.
async fn first_line(supervisor: &mut Supervisor, dir: &Path, name: &str) -> String {
    let file = format!("{name}.out.log");
    supervisor
        .wait_ready(name, Duration::from_secs(10), || {
            let text = read_log(dir, &file);
            async move {
                if text.contains('\n') {
                    Ok(())
                } else {
                    Err("no output yet".to_owned())
                }
            }
        })
        .await
        .expect("child prints a line");
    read_log(dir, &file)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn stop_escalates_to_sigkill_when_sigterm_is_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut supervisor = Supervisor::new(dir.path()).expect("supervisor");
    supervisor.set_grace(Duration::from_millis(300));
    // SIG_IGN is inherited, so the whole group ignores SIGTERM.
    let pid = supervisor
        .spawn(sh(
            "stubborn",
            "trap '' TERM; echo started; while :; do sleep 0.1; done",
        ))
        .expect("spawn")
        .pid();
    first_line(&mut supervisor, dir.path(), "stubborn").await;
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(10), supervisor.stop_all())
        .await
        .expect("stop within 10s");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(!process_exists(pid));
    assert!(!dir.path().join(pidfile::PIDFILE).exists());
}

#[tokio::test]
async fn wait_ready_deadline_error_quotes_stderr_and_drop_stops_the_child() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut supervisor = Supervisor::new(dir.path()).expect("supervisor");
    let pid = supervisor
        .spawn(sh("slow", "echo warming-up-42 >&2; exec sleep 300"))
        .expect("spawn")
        .pid();
    let error = supervisor
        .wait_ready("slow", Duration::from_millis(500), || async {
            Err("nope".to_owned())
        })
        .await
        .expect_err("never ready");
    let shown = error.to_string();
    assert!(shown.contains("not ready after"), "{shown}");
    assert!(shown.contains("last probe: nope"), "{shown}");
    assert!(shown.contains("warming-up-42"), "{shown}");
    assert!(shown.contains("/bin/sh -c"), "{shown}");
    assert!(process_exists(pid));
    drop(supervisor);
    assert!(!process_exists(pid));
}

#[tokio::test]
async fn early_exit_is_reported_with_status_and_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut supervisor = Supervisor::new(dir.path()).expect("supervisor");
    supervisor
        .spawn(sh("crash", "echo 'fatal: no config' >&2; exit 7"))
        .expect("spawn");
    let error = supervisor
        .wait_ready("crash", Duration::from_secs(10), || async {
            Err("not yet".to_owned())
        })
        .await
        .expect_err("exits");
    assert!(error.is_exit());
    assert_eq!(error.status.and_then(|s| s.code()), Some(7));
    assert_eq!(error.stderr_tail, "fatal: no config");
}

#[tokio::test]
async fn stop_reaches_grandchildren_in_the_process_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut supervisor = Supervisor::new(dir.path()).expect("supervisor");
    let pid = supervisor
        .spawn(sh("parent", "sleep 300 & echo $!; wait"))
        .expect("spawn")
        .pid();
    let grandchild: u32 = first_line(&mut supervisor, dir.path(), "parent")
        .await
        .trim()
        .parse()
        .expect("pid");
    assert!(process_exists(grandchild));
    supervisor.stop_all().await;
    assert!(!process_exists(pid));
    // The grandchild is re-parented to init (or a subreaper) and reaped there; give it a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_exists(grandchild) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !process_exists(grandchild),
        "grandchild {grandchild} survived"
    );
}

#[test]
fn a_new_supervisor_reaps_children_a_dead_owner_left() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A leftover: its own process group, as the supervisor starts children.
    let mut leftover = {
        use std::os::unix::process::CommandExt as _;
        Command::new("sleep")
            .arg("300")
            .process_group(0)
            .spawn()
            .expect("spawn sleep")
    };
    let pid = leftover.id();
    // The owner: a process that has already exited.
    let mut owner = Command::new("true").spawn().expect("spawn true");
    let owner_pid = owner.id();
    owner.wait().expect("wait true");
    let contents = Contents {
        owner: Some(Recorded {
            name: "owner".into(),
            pid: owner_pid,
            start_time: Some(0),
            program: "/bin/true".into(),
        }),
        children: vec![Recorded {
            name: "sleep".into(),
            pid,
            start_time: pidfile::start_time(pid),
            program: "/bin/sleep".into(),
        }],
    };
    std::fs::write(
        dir.path().join(pidfile::PIDFILE),
        serde_json::to_string(&contents).expect("json"),
    )
    .expect("write pidfile");

    let supervisor = Supervisor::new(dir.path()).expect("claims the run dir");
    // `sleep` is this test's child, so it lingers as a zombie until waited for.
    let status = leftover
        .try_wait()
        .expect("try_wait")
        .expect("reaped before Supervisor::new returned");
    assert!(!status.success(), "killed by a signal: {status}");
    assert!(!process_exists(pid));
    drop(supervisor);
}

#[tokio::test]
async fn a_run_directory_has_one_supervisor_at_a_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut first = Supervisor::new(dir.path()).expect("first");
    let pid = first
        .spawn(sh("sleeper", "exec sleep 300"))
        .expect("spawn")
        .pid();
    let error = Supervisor::new(dir.path()).expect_err("second is refused");
    assert!(
        error.to_string().contains("harness down --run-dir"),
        "{error}"
    );
    assert!(process_exists(pid), "the refused supervisor reaped nothing");
    first.stop_all().await;
    drop(first);
    let _second = Supervisor::new(dir.path()).expect("free again after stop");
}

/// Two children bind the same fixed port, each in a network namespace of its own (what each
/// scenario's Reloader does with its hard-coded :9090); both reach a host listener through
/// the namespace's forward, and stopping one leaves the other serving. Needs root.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_in_their_own_network_namespaces_bind_the_same_port() {
    use harness::supervise::NetNs;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let host = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host_address = host.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = host.accept().await {
            let _ = stream.write_all(b"from the host").await;
        }
    });
    let fixed: std::net::SocketAddr = "127.0.0.1:9090".parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut supervisor = Supervisor::new(dir.path()).unwrap();
    let mut namespaces = Vec::new();
    let mut forwards = Vec::new();
    for name in ["one", "two"] {
        let netns = NetNs::new().expect("a network namespace (run as root)");
        forwards.push(netns.forward_from_host(host_address).unwrap());
        let server = format!(
            "exec python3 -c \"import http.server as h; h.HTTPServer(('127.0.0.1', 9090), type('H', (h.BaseHTTPRequestHandler,), {{'do_GET': lambda s: (s.send_response(200), s.end_headers(), s.wfile.write(b'{name}'))}})).serve_forever()\""
        );
        supervisor.spawn_in(sh(name, &server), &netns).unwrap();
        namespaces.push(netns);
    }
    for (netns, name) in namespaces.iter().zip(["one", "two"]) {
        let mut body = String::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut stream) = netns.connect(fixed).await {
                stream.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
                body.clear();
                stream.read_to_string(&mut body).await.unwrap();
                break;
            }
            assert!(Instant::now() < deadline, "{name} never listened");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            body.ends_with(name),
            "{name} answers on its own :9090: {body}"
        );
        let mut through = netns.connect(host_address).await.unwrap();
        let mut text = String::new();
        through.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "from the host");
    }
    // Their sockets are not on the host's loopback: the host can still bind the port.
    drop(std::net::TcpListener::bind(fixed).expect("the host's own :9090 is free"));
    assert!(supervisor.stop("one").await);
    assert!(namespaces[0].connect(fixed).await.is_err(), "one is gone");
    assert!(
        namespaces[1].connect(fixed).await.is_ok(),
        "two still serves"
    );
    supervisor.stop_all().await;
    for forward in forwards {
        forward.abort();
    }
}
