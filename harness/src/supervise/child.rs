//! One child: its own process group, drained pipes, stop by signal.

use std::ffi::OsString;
use std::fmt;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;

use super::ChildSpec;

/// How much of stderr a [`SpawnError`] quotes.
const TAIL_LINES: usize = 25;
const TAIL_BYTES: u64 = 16 * 1024;

/// Starts the program under a guard that takes its process group down when the harness dies,
/// however it dies: the guard's stdin is a pipe only the harness holds, and the kernel closes
/// it with the harness. A watcher in the group waits on that pipe; the program then replaces
/// the shell (same pid, its own signal dispositions, its own exit status). The watcher kills
/// the program first, runs the child's [`super::ON_ORPHAN_ENV`] script if it names one, then
/// the rest of the group.
///
/// `PR_SET_PDEATHSIG` would need `pre_exec`, which the workspace's `unsafe` ban rules out, and
/// fires when the forking *thread* ends, not the process: children started from the short-lived
/// threads that enter a network namespace would die at once.
const GUARD: &str = "exec 3<&0
{ read -r _; kill -KILL $$; [ -n \"$HARNESS_ON_ORPHAN\" ] && sh \"$HARNESS_ON_ORPHAN\"; kill -KILL 0; } <&3 >/dev/null 2>&1 &
exec \"$@\" </dev/null 3<&-";

/// A running (or finished) child process.
pub struct Child {
    spec: ChildSpec,
    pid: u32,
    process: tokio::process::Child,
    /// The guard's pipe: held until the child is dropped, closed by the kernel if the harness
    /// dies.
    _lifeline: Option<tokio::process::ChildStdin>,
    out_log: PathBuf,
    err_log: PathBuf,
    drains: Vec<JoinHandle<()>>,
    started: Instant,
    stopped: bool,
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("name", &self.spec.name)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl Child {
    pub(super) fn spawn(spec: ChildSpec, log_dir: &Path, append: bool) -> Result<Self, SpawnError> {
        let out_log = log_dir.join(format!("{}.out.log", spec.name));
        let err_log = log_dir.join(format!("{}.err.log", spec.name));
        let open = |path: &Path| {
            std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(append)
                .truncate(!append)
                .open(path)
                .map_err(|source| {
                    SpawnError::new(
                        &spec,
                        SpawnErrorKind::Log {
                            path: path.to_path_buf(),
                            source,
                        },
                    )
                })
        };
        let out_file = open(&out_log)?;
        let err_file = open(&err_log)?;
        // The guard's `exec` would report a missing program only as exit 127; say it here.
        if spec.program.components().count() > 1
            && let Err(source) = std::fs::metadata(&spec.program)
        {
            return Err(SpawnError::new(&spec, SpawnErrorKind::Start(source)));
        }
        let mut command = tokio::process::Command::new("/bin/sh");
        command
            .args(["-c", GUARD, "harness-guard"])
            .arg(&spec.program)
            .args(&spec.args)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Own process group: signals reach grandchildren, and Ctrl-C in the terminal reaches
            // only the harness, which then stops children in order.
            .process_group(0);
        let mut process = command
            .spawn()
            .map_err(|source| SpawnError::new(&spec, SpawnErrorKind::Start(source)))?;
        let pid = process.id().expect("a just-spawned child has a pid");
        let lifeline = process.stdin.take();
        let mut drains = Vec::new();
        if let Some(out) = process.stdout.take() {
            drains.push(tokio::spawn(drain(out, out_file)));
        }
        if let Some(err) = process.stderr.take() {
            drains.push(tokio::spawn(drain(err, err_file)));
        }
        tracing::debug!(name = %spec.name, pid, "started");
        Ok(Self {
            spec,
            pid,
            process,
            _lifeline: lifeline,
            out_log,
            err_log,
            drains,
            started: Instant::now(),
            stopped: false,
        })
    }

    /// The name given in the spec.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The process id (also the process group id).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The executable.
    pub fn program(&self) -> &Path {
        &self.spec.program
    }

    /// The stdout log file.
    pub fn out_log(&self) -> &Path {
        &self.out_log
    }

    /// The stderr log file.
    pub fn err_log(&self) -> &Path {
        &self.err_log
    }

    /// How long ago it was started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// The exit status if the child has exited.
    pub fn try_exit_status(&mut self) -> Option<ExitStatus> {
        self.process.try_wait().ok().flatten()
    }

    pub(super) async fn exited(&mut self, status: ExitStatus) -> SpawnError {
        self.finish_drains().await;
        let mut error = SpawnError::new(&self.spec, SpawnErrorKind::Exited);
        error.status = Some(status);
        error.stderr_tail = tail(&self.err_log);
        error
    }

    pub(super) fn not_ready(&mut self, waited: Duration, last: String) -> SpawnError {
        let mut error = SpawnError::new(&self.spec, SpawnErrorKind::NotReady { waited, last });
        error.stderr_tail = tail(&self.err_log);
        error
    }

    async fn finish_drains(&mut self) {
        for drain in self.drains.drain(..) {
            // A grandchild may hold the pipe open; don't wait for it forever.
            let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
        }
    }

    fn signal_group(&self, signal: Signal) {
        match killpg(Pid::from_raw(self.pid as i32), signal) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(error) => tracing::warn!(name = %self.spec.name, %error, "cannot signal group"),
        }
    }

    /// SIGTERM to the group, up to `grace` for it to exit, then SIGKILL.
    pub async fn stop(&mut self, grace: Duration) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        if self.try_exit_status().is_none() {
            self.signal_group(Signal::SIGTERM);
            if tokio::time::timeout(grace, self.process.wait())
                .await
                .is_err()
            {
                tracing::warn!(name = %self.spec.name, "did not stop within {grace:?}; SIGKILL");
            }
        }
        // The leader is gone or ignored SIGTERM; anything left in its group goes now.
        self.signal_group(Signal::SIGKILL);
        let _ = self.process.wait().await;
        self.finish_drains().await;
    }

    /// The blocking form of [`Child::stop`] (from `Drop`, where nothing can be awaited).
    pub fn stop_blocking(&mut self, grace: Duration) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        if self.try_exit_status().is_none() {
            self.signal_group(Signal::SIGTERM);
            let deadline = Instant::now() + grace;
            while self.try_exit_status().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.signal_group(Signal::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.try_exit_status().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        for drain in self.drains.drain(..) {
            drain.abort();
        }
    }
}

async fn drain(mut from: impl AsyncRead + Unpin, to: std::fs::File) {
    let mut to = tokio::fs::File::from_std(to);
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buffer[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.flush().await;
}

/// The last lines of a log file.
pub(crate) fn tail(path: &Path) -> String {
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map_or(0, |m| m.len());
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(TAIL_BYTES)));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

/// A child could not be started, exited early, or never became ready.
///
/// Carries what a person needs to see why: the program, its arguments, the exit status and
/// the tail of its stderr.
#[derive(Debug)]
pub struct SpawnError {
    /// The child's name in the supervisor.
    pub name: String,
    /// The executable.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// The exit status, if it exited.
    pub status: Option<ExitStatus>,
    /// The last lines of its stderr.
    pub stderr_tail: String,
    kind: SpawnErrorKind,
}

#[derive(Debug)]
#[non_exhaustive]
enum SpawnErrorKind {
    Log {
        path: PathBuf,
        source: std::io::Error,
    },
    Start(std::io::Error),
    Exited,
    NotReady {
        waited: Duration,
        last: String,
    },
}

impl SpawnError {
    fn new(spec: &ChildSpec, kind: SpawnErrorKind) -> Self {
        Self {
            name: spec.name.clone(),
            program: spec.program.clone(),
            args: spec.args.clone(),
            status: None,
            stderr_tail: String::new(),
            kind,
        }
    }

    pub(super) fn cannot_start(spec: &ChildSpec, source: std::io::Error) -> Self {
        Self::new(spec, SpawnErrorKind::Start(source))
    }

    /// True if the child exited by itself before it was ready.
    #[must_use]
    pub fn is_exit(&self) -> bool {
        matches!(self.kind, SpawnErrorKind::Exited)
    }
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: Vec<_> = self.args.iter().map(|a| a.to_string_lossy()).collect();
        let command = format!("{} {}", self.program.display(), args.join(" "));
        match &self.kind {
            SpawnErrorKind::Log { path, source } => write!(
                f,
                "{}: cannot create log file {}: {source}",
                self.name,
                path.display()
            )?,
            SpawnErrorKind::Start(source) => {
                write!(f, "{}: cannot start `{command}`: {source}", self.name)?;
            }
            SpawnErrorKind::Exited => {
                let status = self
                    .status
                    .map_or_else(|| "unknown status".to_string(), |s| s.to_string());
                write!(f, "{}: `{command}` exited ({status})", self.name)?;
            }
            SpawnErrorKind::NotReady { waited, last } => write!(
                f,
                "{}: `{command}` not ready after {:.1}s (last probe: {last})",
                self.name,
                waited.as_secs_f64()
            )?,
        }
        if !self.stderr_tail.is_empty() {
            write!(f, "\n--- stderr tail ---\n{}", self.stderr_tail)?;
        }
        Ok(())
    }
}

impl std::error::Error for SpawnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            SpawnErrorKind::Log { source, .. } | SpawnErrorKind::Start(source) => Some(source),
            SpawnErrorKind::Exited | SpawnErrorKind::NotReady { .. } => None,
        }
    }
}
