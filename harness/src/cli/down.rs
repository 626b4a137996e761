//! `harness down`: stop the plane kept in a run directory, or reap what a dead harness left.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::cluster::PlaneState;
use crate::cluster::ports::is_free;
use crate::supervise::{DEFAULT_GRACE, pidfile};

/// Flags of `harness down`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run directory of the plane.
    #[arg(long, env = "HARNESS_RUN_DIR", default_value_os_t = super::up::default_run_dir())]
    run_dir: PathBuf,
    /// Seconds between SIGTERM and SIGKILL.
    #[arg(long, default_value_t = DEFAULT_GRACE.as_secs())]
    grace: u64,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let state = PlaneState::read(&args.run_dir)?;
    let reaped = pidfile::reap(&args.run_dir, Duration::from_secs(args.grace))?;
    if let Some(owner) = reaped.owner {
        println!("stopped harness pid {owner} (it stopped its children)");
    }
    for child in &reaped.children {
        println!("stopped leftover {} (pid {})", child.name, child.pid);
    }
    let node = crate::node::teardown_script(&args.run_dir);
    if node.is_file() {
        crate::node::teardown::run(&node);
        println!("tore down the real node ({})", node.display());
    }
    if reaped.owner.is_none() && reaped.children.is_empty() {
        println!("nothing running in {}", args.run_dir.display());
    }
    let mut code = ExitCode::SUCCESS;
    if let Some(state) = state {
        // Sockets close with their process; allow a moment for the kernel to release them.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut busy: Vec<u16> = state.ports.clone();
        while !busy.is_empty() && Instant::now() < deadline {
            busy.retain(|p| !is_free(*p));
            if !busy.is_empty() {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        if busy.is_empty() {
            println!("ports free: {:?}", state.ports);
        } else {
            eprintln!("harness down: ports still in use: {busy:?}");
            code = ExitCode::from(1);
        }
        PlaneState::remove(&args.run_dir);
    }
    eprintln!(
        "harness down: done in {:.2}s",
        started.elapsed().as_secs_f64()
    );
    Ok(code)
}
