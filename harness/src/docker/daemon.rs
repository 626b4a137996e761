//! Finding a Docker daemon, or starting one.
//!
//! A daemon that already answers (`DOCKER_HOST`, else `/var/run/docker.sock`) is used as it is.
//! Otherwise, as root, the harness starts Debian's `dockerd` (installing `docker.io` with
//! apt-get when missing) on the default socket, so every Docker client finds it (the
//! testcontainers crate reads no other setting than `DOCKER_HOST` and that socket), and takes
//! it down with itself however it dies (the supervisor's guard runs the teardown script).
//!
//! Our daemon changes as little of the host as it can: no iptables rules, no masquerading and
//! no `ip_forward` (`--iptables=false --ip-masq=false --ip-forward=false`), so a container is
//! reached only through the published ports' userland proxy on this machine; its containers sit
//! under their own cgroup parent; images live in the cache, so a second start is warm.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::deps::DepsConfig;
use crate::node::host::{apt_install, find};
use crate::supervise::{ChildSpec, ON_ORPHAN_ENV, Supervisor};

/// Where Docker clients look when `DOCKER_HOST` is unset.
const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
/// The cgroup parent of our daemon's containers (cgroupfs driver).
const CGROUP_PARENT: &str = "akv-e2e-docker";
/// The bridge dockerd creates for its default network.
const BRIDGE: &str = "docker0";
/// How long a fresh dockerd may take to answer (0.7 s measured here).
const START_DEADLINE: Duration = Duration::from_secs(60);

/// Why Docker cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// No daemon answers and none can be started here; the reason says which.
    #[error("Docker cannot run here: {0}")]
    Unavailable(String),
    /// The daemon the harness started did not come up.
    #[error("dockerd did not start: {0} (its log: {1})")]
    Start(String, PathBuf),
    /// A `docker` command failed.
    #[error("{what} failed: {message}")]
    Command {
        /// The command.
        what: String,
        /// Its stderr, or why it could not run.
        message: String,
    },
}

/// A Docker daemon to talk to.
pub struct Docker {
    host: String,
    owned: Option<Owned>,
}

/// A daemon the harness started: stopped, and its traces removed, when dropped.
struct Owned {
    supervisor: Supervisor,
    teardown: PathBuf,
}

impl Drop for Owned {
    fn drop(&mut self) {
        self.supervisor.stop_all_blocking();
        let _ = Command::new("sh").arg(&self.teardown).status();
    }
}

impl std::fmt::Debug for Docker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Docker")
            .field("host", &self.host)
            .field("started_here", &self.owned.is_some())
            .finish()
    }
}

impl Docker {
    /// The daemon at `DOCKER_HOST` or the default socket; otherwise one started now (needs
    /// root, Linux and Debian's `docker.io`, which is installed when missing).
    pub async fn connect_or_start(config: &DepsConfig) -> Result<Self, DockerError> {
        if let Ok(host) = std::env::var("DOCKER_HOST") {
            return if answers(&host) {
                Ok(Self { host, owned: None })
            } else {
                Err(DockerError::Unavailable(format!(
                    "DOCKER_HOST={host} does not answer; start that daemon or unset DOCKER_HOST"
                )))
            };
        }
        let host = format!("unix://{DEFAULT_SOCKET}");
        if answers(&host) {
            return Ok(Self { host, owned: None });
        }
        let owned = start(config, &host).await?;
        Ok(Self {
            host,
            owned: Some(owned),
        })
    }

    /// True when the harness started this daemon (and will stop it).
    #[must_use]
    pub fn started_here(&self) -> bool {
        self.owned.is_some()
    }

    /// Runs `docker args…` and returns its stdout.
    pub fn run(&self, args: &[&str]) -> Result<String, DockerError> {
        let what = format!("docker {}", args.join(" "));
        let output = cli(&self.host)
            .args(args)
            .output()
            .map_err(|e| DockerError::Command {
                what: what.clone(),
                message: e.to_string(),
            })?;
        if !output.status.success() {
            return Err(DockerError::Command {
                what,
                message: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// `docker` aimed at `host`.
fn cli(host: &str) -> Command {
    let mut command = Command::new(find("docker").unwrap_or_else(|| "docker".into()));
    command.env("DOCKER_HOST", host);
    command
}

/// Whether a daemon answers `GET /_ping` at `host` (unix sockets directly; other schemes
/// through the `docker` CLI).
fn answers(host: &str) -> bool {
    let Some(path) = host.strip_prefix("unix://") else {
        return cli(host)
            .args(["version", "--format", "{{.Server.Version}}"])
            .output()
            .is_ok_and(|o| o.status.success());
    };
    let ping = || -> std::io::Result<bool> {
        let mut stream = UnixStream::connect(path)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply)?;
        Ok(reply.starts_with(b"HTTP/1.0 200") || reply.starts_with(b"HTTP/1.1 200"))
    };
    ping().unwrap_or(false)
}

/// Starts our dockerd on the default socket (`host`) and waits until it answers.
async fn start(config: &DepsConfig, host: &str) -> Result<Owned, DockerError> {
    if !cfg!(target_os = "linux") || !nix::unistd::geteuid().is_root() {
        return Err(DockerError::Unavailable(format!(
            "no daemon answers at {DEFAULT_SOCKET} and starting one needs root on Linux; start Docker or set DOCKER_HOST"
        )));
    }
    if find("dockerd").is_none() {
        apt_install(&["docker.io"]).map_err(|e| DockerError::Unavailable(e.0))?;
    }
    let dockerd = find("dockerd").ok_or_else(|| {
        DockerError::Unavailable("apt-get installed docker.io, but there is no dockerd".into())
    })?;
    let run_dir = std::env::temp_dir().join("akv-e2e-docker");
    let unavailable = |e: &dyn std::fmt::Display| DockerError::Unavailable(e.to_string());
    let mut supervisor = Supervisor::new(&run_dir).map_err(|e| unavailable(&e))?;
    let exec_root = run_dir.join("exec");
    let data_root = config.docker_cache();
    let teardown = run_dir.join("teardown.sh");
    let bridge_is_ours = !Path::new("/sys/class/net").join(BRIDGE).exists();
    std::fs::write(
        &teardown,
        teardown_script(&exec_root, &data_root, bridge_is_ours),
    )
    .map_err(|e| unavailable(&e))?;
    // A socket file nobody answers on is a dead daemon's; dockerd will not bind over it.
    let _ = std::fs::remove_file(DEFAULT_SOCKET);
    let spec = ChildSpec::new("dockerd", dockerd)
        .args([
            format!("--host={host}"),
            format!("--data-root={}", data_root.display()),
            format!("--exec-root={}", exec_root.display()),
            format!("--pidfile={}", run_dir.join("dockerd.pid").display()),
            format!("--cgroup-parent={CGROUP_PARENT}"),
            "--iptables=false".to_owned(),
            "--ip-masq=false".to_owned(),
            "--ip-forward=false".to_owned(),
        ])
        .env(ON_ORPHAN_ENV, &teardown);
    let log = supervisor.log_dir().join("dockerd.err.log");
    supervisor.spawn(spec).map_err(|e| unavailable(&e))?;
    let owned = Owned {
        supervisor,
        teardown,
    };
    let started = Instant::now();
    while !answers(host) {
        if started.elapsed() > START_DEADLINE {
            return Err(DockerError::Start(
                format!("no answer at {DEFAULT_SOCKET} after {START_DEADLINE:?}"),
                log,
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tracing::info!(elapsed = ?started.elapsed(), "dockerd answers");
    Ok(owned)
}

/// What undoes our daemon when it did not stop cleanly (or left its bridge): kill its
/// containerd, shims and containers, unmount what they left, remove the cgroup parent, the
/// bridge (when the daemon created it) and the socket. Safe to run twice.
fn teardown_script(exec_root: &Path, data_root: &Path, bridge_is_ours: bool) -> String {
    let bridge = if bridge_is_ours { BRIDGE } else { "" };
    format!(
        r#"#!/bin/sh
# Generated by the harness: undoes what its Docker daemon did. Safe to run twice.
EXEC='{exec}'
DATA='{data}'
# The managed containerd (--config $EXEC/containerd/...) and its shims (-address $EXEC/containerd/...).
pkill -KILL -f -- "$EXEC/containerd/containerd" 2>/dev/null
for round in 1 2 3; do
  pids=$(cat /sys/fs/cgroup/*/{cgroup}/*/cgroup.procs 2>/dev/null | sort -u)
  [ -z "$pids" ] && break
  kill -KILL $pids 2>/dev/null
  sleep 0.2
done
# dockerd also binds its data root onto itself.
awk '{{print $2}}' /proc/mounts | grep -e "^$EXEC$" -e "^$EXEC/" -e "^$DATA$" -e "^$DATA/" | sort -r | while read -r mount; do
  umount -l "$mount" 2>/dev/null
done
rmdir /sys/fs/cgroup/*/{cgroup}/* /sys/fs/cgroup/*/{cgroup} 2>/dev/null
[ -n '{bridge}' ] && ip link delete '{bridge}' 2>/dev/null
rm -f '{socket}'
exit 0
"#,
        exec = exec_root.display(),
        data = data_root.display(),
        cgroup = CGROUP_PARENT,
        socket = DEFAULT_SOCKET,
    )
}
