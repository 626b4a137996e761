//! `harness status`: what runs in a run directory, its versions and readiness.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::cluster::PlaneState;
use crate::supervise::{pidfile, probe};

/// Flags of `harness status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run directory of the plane.
    #[arg(long, env = "HARNESS_RUN_DIR", default_value_os_t = super::up::default_run_dir())]
    run_dir: PathBuf,
}

/// Exit code 0 when every component runs and is ready, 1 otherwise.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let Some(state) = PlaneState::read(&args.run_dir)? else {
        println!("no plane in {}", args.run_dir.display());
        if let Some(pids) = pidfile::read(&args.run_dir)? {
            let alive: Vec<_> = pids.children.iter().filter(|c| c.is_alive()).collect();
            if !alive.is_empty() {
                println!(
                    "{} leftover children recorded; `harness down` reaps them",
                    alive.len()
                );
            }
        }
        return Ok(ExitCode::from(1));
    };
    let pids = pidfile::read(&args.run_dir)?.unwrap_or_default();
    let ca = std::fs::read_to_string(&state.ca_file)
        .with_context(|| format!("read {}", state.ca_file.display()))?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let mut all_ready = true;
    runtime.block_on(async {
        let trusted = probe::http_client(Some(&ca))?;
        let insecure = probe::http_client(None)?;
        println!("run dir     {}", args.run_dir.display());
        println!("kubeconfig  {}", state.kubeconfig.display());
        println!("issuer      {}", state.issuer);
        match pids.owner.as_ref().filter(|o| o.is_alive()) {
            Some(owner) => println!("owner       harness pid {}", owner.pid),
            None => {
                println!("owner       GONE (children may be orphans; `harness down` reaps them)");
            }
        }
        println!();
        println!(
            "{:<24} {:>8} {:<10} {:<8} version",
            "component", "pid", "process", "ready"
        );
        for component in &state.components {
            let running = pids
                .children
                .iter()
                .find(|c| c.pid == component.pid)
                .is_some_and(pidfile::Recorded::is_alive);
            let ready = match (&component.health_url, running) {
                (_, false) => "-".to_owned(),
                (Some(url), true) => {
                    let client = if component.uses_plane_ca {
                        &trusted
                    } else {
                        &insecure
                    };
                    match probe::http_ok(client, url).await {
                        Ok(()) => "yes".to_owned(),
                        Err(_) => "NO".to_owned(),
                    }
                }
                (None, true) => "n/a".to_owned(),
            };
            all_ready &= running && ready != "NO";
            println!(
                "{:<24} {:>8} {:<10} {:<8} {}",
                component.name,
                component.pid,
                if running { "running" } else { "GONE" },
                ready,
                component.version
            );
        }
        println!();
        println!("started in  {:.2}s", state.ready_after_secs);
        anyhow::Ok(())
    })?;
    Ok(if all_ready {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
