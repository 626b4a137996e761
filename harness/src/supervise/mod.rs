//! Child processes: start, readiness, stop.
//!
//! Every child runs in its own process group, with stdout and stderr drained into
//! `<run dir>/logs/<name>.{out,err}.log` so a chatty child never blocks. Readiness is a probe
//! polled with backoff under a deadline, never a sleep. Stopping sends SIGTERM to the group,
//! waits out a grace period, then sends SIGKILL; [`Supervisor`]'s `Drop` does the same, so a
//! panic or an early return leaves nothing behind.
//!
//! Children die with the harness however it dies (`kill -9`, the OOM killer, a CI timeout):
//! each starts under a small `sh` guard whose stdin is a pipe only the harness holds; when the
//! kernel closes it, a watcher in the child's process group kills the group (see `child.rs`
//! for why not `PR_SET_PDEATHSIG`). As a second line every child is recorded in
//! `<run dir>/pids.json` ([`pidfile`]) with the owning harness process; `harness down` and the
//! next `harness up` reap what is left.
//!
//! A child that binds a fixed port (Reloader's `:9090`) runs in a network namespace of its
//! own ([`NetNs`]), which vanishes with it.

mod child;
mod netns;
pub mod pidfile;
pub mod probe;

use std::ffi::OsString;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub(crate) use child::tail as log_tail;
pub use child::{Child, SpawnError};
pub use netns::NetNs;
pub use pidfile::{PidFile, PidFileError, Reaped};

/// A child whose environment names a script here has the guard run it when the harness dies,
/// after killing the child and before killing the rest of its group: for what outlives the
/// process group (the real node's containers, mounts and network).
pub const ON_ORPHAN_ENV: &str = "HARNESS_ON_ORPHAN";

/// Grace between SIGTERM and SIGKILL unless the caller picks another.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// What to run.
#[derive(Clone, Debug)]
pub struct ChildSpec {
    /// Short unique name; names the log files (`etcd`, `kube-apiserver`).
    pub name: String,
    /// The executable.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Extra environment (added to the harness's own).
    pub env: Vec<(OsString, OsString)>,
}

impl ChildSpec {
    /// A spec with no arguments and no extra environment.
    pub fn new(name: impl Into<String>, program: impl Into<PathBuf>) -> Self {
        Self {
            name: name.into(),
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Appends arguments.
    #[must_use]
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds one environment variable.
    #[must_use]
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }
}

/// Owns the children of one run directory.
#[derive(Debug)]
pub struct Supervisor {
    run_dir: PathBuf,
    log_dir: PathBuf,
    pidfile: PidFile,
    grace: Duration,
    children: Vec<Child>,
}

impl Supervisor {
    /// Takes over `run_dir`: creates it and its `logs/`, reaps children a dead harness left
    /// there, and refuses if a live harness still owns it.
    pub fn new(run_dir: &Path) -> Result<Self, PidFileError> {
        let log_dir = run_dir.join("logs");
        std::fs::create_dir_all(&log_dir).map_err(|source| PidFileError::Io {
            path: log_dir.clone(),
            source,
        })?;
        let pidfile = PidFile::claim(run_dir, DEFAULT_GRACE)?;
        Ok(Self {
            run_dir: run_dir.to_path_buf(),
            log_dir,
            pidfile,
            grace: DEFAULT_GRACE,
            children: Vec::new(),
        })
    }

    /// Changes the SIGTERM → SIGKILL grace period.
    pub fn set_grace(&mut self, grace: Duration) {
        self.grace = grace;
    }

    /// The run directory.
    #[must_use]
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// Where the per-child logs go.
    #[must_use]
    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    /// The children, in start order.
    #[must_use]
    pub fn children(&self) -> &[Child] {
        &self.children
    }

    /// The live child called `name`.
    #[must_use]
    pub fn child(&self, name: &str) -> Option<&Child> {
        self.children.iter().find(|c| c.name() == name)
    }

    /// Process ids of every child started so far (stopped ones included).
    pub fn pids(&self) -> Vec<u32> {
        self.children.iter().map(Child::pid).collect()
    }

    /// Starts `spec` in its own process group and records it in the pidfile.
    pub fn spawn(&mut self, spec: ChildSpec) -> Result<&Child, SpawnError> {
        let child = Child::spawn(spec, &self.log_dir, false)?;
        Ok(self.adopt(child))
    }

    /// Starts `spec` again after [`Supervisor::stop`], appending to its logs.
    pub fn spawn_again(&mut self, spec: ChildSpec) -> Result<&Child, SpawnError> {
        let child = Child::spawn(spec, &self.log_dir, true)?;
        Ok(self.adopt(child))
    }

    /// Starts `spec` inside `netns`. Its logs are appended to, so a child started again under
    /// the same name (after [`Supervisor::stop`]) keeps one log across its lives.
    pub fn spawn_in(&mut self, spec: ChildSpec, netns: &NetNs) -> Result<&Child, SpawnError> {
        let runtime = tokio::runtime::Handle::current();
        let log_dir = self.log_dir.clone();
        let fallback = spec.clone();
        let child = netns
            .run(move || {
                // tokio's child reaper needs the runtime the harness runs on.
                let _entered = runtime.enter();
                Child::spawn(spec, &log_dir, true)
            })
            .map_err(|source| SpawnError::cannot_start(&fallback, source))??;
        Ok(self.adopt(child))
    }

    fn adopt(&mut self, child: Child) -> &Child {
        if let Err(error) = self.pidfile.add(child.name(), child.pid(), child.program()) {
            tracing::warn!(%error, "cannot record child in the pidfile");
        }
        self.children.push(child);
        self.children.last().expect("just pushed")
    }

    /// Stops the child called `name` (SIGTERM, the grace period, SIGKILL) and forgets it;
    /// false if there is none.
    pub async fn stop(&mut self, name: &str) -> bool {
        let Some(index) = self.children.iter().position(|c| c.name() == name) else {
            return false;
        };
        let mut child = self.children.remove(index);
        child.stop(self.grace).await;
        self.pidfile.remove(child.pid());
        true
    }

    /// Polls `probe` with backoff (50 ms doubling to 1 s) until it succeeds, `deadline`
    /// passes or the child exits. Both failures carry the child's stderr tail.
    pub async fn wait_ready<F, Fut>(
        &mut self,
        name: &str,
        deadline: Duration,
        mut probe: F,
    ) -> Result<Duration, SpawnError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(), String>>,
    {
        let started = Instant::now();
        let mut delay = Duration::from_millis(50);
        let mut last;
        let index = self
            .children
            .iter()
            .position(|c| c.name() == name)
            .unwrap_or_else(|| panic!("wait_ready on unknown child {name}"));
        loop {
            if let Some(status) = self.children[index].try_exit_status() {
                return Err(self.children[index].exited(status).await);
            }
            match tokio::time::timeout(Duration::from_secs(5), probe()).await {
                Ok(Ok(())) => return Ok(started.elapsed()),
                Ok(Err(why)) => last = why,
                Err(_) => last = "probe timed out after 5s".into(),
            }
            let elapsed = started.elapsed();
            if elapsed >= deadline {
                return Err(self.children[index].not_ready(elapsed, last));
            }
            tokio::time::sleep(delay.min(deadline.saturating_sub(elapsed))).await;
            delay = (delay * 2).min(Duration::from_secs(1));
        }
    }

    /// Fails with the child's exit status and stderr tail if it has exited.
    pub async fn check_alive(&mut self, name: &str) -> Result<(), SpawnError> {
        if let Some(child) = self.children.iter_mut().find(|c| c.name() == name)
            && let Some(status) = child.try_exit_status()
        {
            return Err(child.exited(status).await);
        }
        Ok(())
    }

    /// Stops every child, newest first: SIGTERM to its group, the grace period, SIGKILL.
    pub async fn stop_all(&mut self) {
        while let Some(mut child) = self.children.pop() {
            child.stop(self.grace).await;
            self.pidfile.remove(child.pid());
        }
        self.pidfile.release();
    }

    /// The blocking form of [`Supervisor::stop_all`], for `Drop` and panics.
    pub fn stop_all_blocking(&mut self) {
        while let Some(mut child) = self.children.pop() {
            child.stop_blocking(self.grace);
            self.pidfile.remove(child.pid());
        }
        self.pidfile.release();
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.stop_all_blocking();
    }
}

/// True if a process with this id exists (zombies included) — for tests and `status`.
#[must_use]
pub fn process_exists(pid: u32) -> bool {
    pidfile::alive(pid)
}
