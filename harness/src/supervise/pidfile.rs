//! `<run dir>/pids.json`: which harness owns the run directory and which children it started.
//!
//! A process is identified by its pid *and* its start time (field 22 of `/proc/<pid>/stat`),
//! so a recycled pid is never mistaken for a leftover child and never signalled.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

/// File name inside the run directory.
pub const PIDFILE: &str = "pids.json";

/// Errors while claiming, reading or writing the pidfile.
#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    /// A live harness owns the run directory.
    #[error(
        "run directory {run_dir} is in use by harness pid {pid}; stop it with `harness down --run-dir {run_dir}`"
    )]
    InUse {
        /// The run directory.
        run_dir: PathBuf,
        /// The owner's pid.
        pid: u32,
    },
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not ours or is damaged.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
}

/// A process as recorded: enough to find it again and to know it is still the same one.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct Recorded {
    /// Child name (`owner` for the harness itself).
    pub name: String,
    /// Process id (for children also the process group id).
    pub pid: u32,
    /// Start time in clock ticks since boot; `None` if it could not be read.
    pub start_time: Option<u64>,
    /// The executable.
    pub program: PathBuf,
}

impl Recorded {
    fn of(name: &str, pid: u32, program: &Path) -> Self {
        Self {
            name: name.to_owned(),
            pid,
            start_time: start_time(pid),
            program: program.to_path_buf(),
        }
    }

    /// True while the same process (pid and start time) is alive.
    #[must_use]
    pub fn is_alive(&self) -> bool {
        alive(self.pid) && (self.start_time.is_none() || start_time(self.pid) == self.start_time)
    }
}

/// The file's content.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Contents {
    /// The harness process that owns the run directory.
    pub owner: Option<Recorded>,
    /// Its children, in start order.
    pub children: Vec<Recorded>,
}

/// The pidfile of a run directory, held by its owner.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    contents: Contents,
}

/// What [`reap`] did.
#[derive(Debug, Default)]
pub struct Reaped {
    /// The owning harness was alive and was asked to stop (SIGTERM).
    pub owner: Option<u32>,
    /// Children still alive afterwards that were stopped by signal.
    pub children: Vec<Recorded>,
}

impl PidFile {
    /// Makes this process the owner of `run_dir`, after reaping children a dead owner left.
    pub fn claim(run_dir: &Path, grace: Duration) -> Result<Self, PidFileError> {
        let path = run_dir.join(PIDFILE);
        let me = std::process::id();
        if let Some(previous) = read(run_dir)? {
            // A live owner may also be this very process (another supervisor on the same
            // run directory): its children are not leftovers either.
            if let Some(owner) = &previous.owner
                && owner.is_alive()
            {
                return Err(PidFileError::InUse {
                    run_dir: run_dir.to_path_buf(),
                    pid: owner.pid,
                });
            }
            for child in &previous.children {
                stop_group(child, grace);
            }
        }
        let program = std::env::current_exe().unwrap_or_default();
        let pidfile = Self {
            path,
            contents: Contents {
                owner: Some(Recorded::of("owner", me, &program)),
                children: Vec::new(),
            },
        };
        pidfile.write()?;
        Ok(pidfile)
    }

    /// Records a child.
    pub fn add(&mut self, name: &str, pid: u32, program: &Path) -> Result<(), PidFileError> {
        self.contents
            .children
            .push(Recorded::of(name, pid, program));
        self.write()
    }

    /// Forgets a stopped child.
    pub fn remove(&mut self, pid: u32) {
        self.contents.children.retain(|c| c.pid != pid);
        if let Err(error) = self.write() {
            tracing::warn!(%error, "cannot update pidfile");
        }
    }

    /// Gives up ownership: deletes the file once no child is recorded.
    pub fn release(&mut self) {
        if self.contents.children.is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }

    fn write(&self) -> Result<(), PidFileError> {
        let io = |source| PidFileError::Io {
            path: self.path.clone(),
            source,
        };
        let text = serde_json::to_string_pretty(&self.contents).expect("plain data serialises");
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)
    }
}

/// Reads the pidfile of `run_dir`, if there is one.
pub fn read(run_dir: &Path) -> Result<Option<Contents>, PidFileError> {
    let path = run_dir.join(PIDFILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| PidFileError::Parse { path, source }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PidFileError::Io { path, source }),
    }
}

/// Stops whatever `run_dir`'s pidfile names: asks a live owner to stop (SIGTERM, it then stops
/// its children in order) and waits for it, then signals every child group still alive.
pub fn reap(run_dir: &Path, grace: Duration) -> Result<Reaped, PidFileError> {
    let Some(contents) = read(run_dir)? else {
        return Ok(Reaped::default());
    };
    let mut reaped = Reaped::default();
    if let Some(owner) = &contents.owner
        && owner.pid != std::process::id()
        && owner.is_alive()
    {
        reaped.owner = Some(owner.pid);
        let _ = kill(Pid::from_raw(owner.pid as i32), Signal::SIGTERM);
        // The owner stops each child with its own grace period; allow for several.
        wait_gone(owner, grace * 4 + Duration::from_secs(5));
    }
    for child in &contents.children {
        if child.is_alive() {
            stop_group(child, grace);
            reaped.children.push(child.clone());
        }
    }
    let _ = std::fs::remove_file(run_dir.join(PIDFILE));
    Ok(reaped)
}

/// SIGTERM to a recorded child's group, `grace`, SIGKILL. Does nothing if the pid now belongs
/// to another process.
fn stop_group(child: &Recorded, grace: Duration) {
    if !child.is_alive() {
        return;
    }
    tracing::info!(name = %child.name, pid = child.pid, "stopping leftover child");
    let group = Pid::from_raw(child.pid as i32);
    let _ = killpg(group, Signal::SIGTERM);
    wait_gone(child, grace);
    match killpg(group, Signal::SIGKILL) {
        Ok(()) | Err(Errno::ESRCH) => {}
        Err(error) => tracing::warn!(%error, pid = child.pid, "cannot SIGKILL group"),
    }
    wait_gone(child, Duration::from_secs(5));
}

fn wait_gone(process: &Recorded, limit: Duration) {
    let deadline = Instant::now() + limit;
    while process.is_alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `comm` (field 2) may contain spaces and parentheses: split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// True if `pid` exists and is not a zombie.
#[must_use]
pub fn alive(pid: u32) -> bool {
    stat_fields(pid).is_some_and(|f| f.first().is_some_and(|state| state != "Z" && state != "X"))
}

/// Field 22 of `/proc/<pid>/stat` (start time), index 19 after `comm`.
#[must_use]
pub fn start_time(pid: u32) -> Option<u64> {
    stat_fields(pid)?.get(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_with_a_start_time() {
        let me = std::process::id();
        assert!(alive(me));
        let recorded = Recorded::of("me", me, Path::new("/bin/true"));
        assert!(recorded.start_time.is_some());
        assert!(recorded.is_alive());
    }

    #[test]
    fn recycled_pid_is_not_alive() {
        let mut recorded = Recorded::of("me", std::process::id(), Path::new("/bin/true"));
        recorded.start_time = recorded.start_time.map(|t| t + 1);
        assert!(!recorded.is_alive());
    }

    #[test]
    fn claim_refuses_a_live_owner_and_release_removes_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A foreign live owner: pid 1 with its real start time.
        let foreign = Contents {
            owner: Some(Recorded::of("owner", 1, Path::new("/sbin/init"))),
            children: Vec::new(),
        };
        std::fs::write(
            dir.path().join(PIDFILE),
            serde_json::to_string(&foreign).expect("json"),
        )
        .expect("write");
        let err = PidFile::claim(dir.path(), Duration::from_millis(10)).expect_err("in use");
        assert!(matches!(err, PidFileError::InUse { pid: 1, .. }));

        std::fs::remove_file(dir.path().join(PIDFILE)).expect("rm");
        let mut pidfile = PidFile::claim(dir.path(), Duration::from_millis(10)).expect("claim");
        assert!(dir.path().join(PIDFILE).exists());
        pidfile.release();
        assert!(!dir.path().join(PIDFILE).exists());
    }
}
