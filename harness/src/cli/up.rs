//! `harness up`: start the local plane and keep it running until Ctrl-C or SIGTERM.

use std::ffi::OsString;
use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::cluster::{Cluster, LocalPlane, PlaneOptions};
use crate::deps::{Assets, Binaries, DepsConfig};
use crate::node::{Node, NodeKind};

/// Flags of `harness up`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run directory: PKI, kubeconfig, logs, pidfile.
    #[arg(long, env = "HARNESS_RUN_DIR", default_value_os_t = default_run_dir())]
    pub run_dir: PathBuf,
    /// Do not start External Secrets Operator (its CRDs are still installed).
    #[arg(long)]
    no_eso: bool,
    /// Extra environment for ESO, e.g. `HTTPS_PROXY=http://127.0.0.1:3128` (repeatable).
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_env)]
    eso_env: Vec<(String, String)>,
    /// Extra flag for ESO, e.g. `--eso-arg=--client-qps=500` (repeatable).
    #[arg(long, value_name = "FLAG", allow_hyphen_values = true)]
    eso_arg: Vec<OsString>,
    /// Seconds each component may take to become ready.
    #[arg(long, default_value_t = 90)]
    timeout: u64,
    /// `--advertise-address` for kube-apiserver (only needed without a default route).
    #[arg(long)]
    advertise_address: Option<IpAddr>,
    /// The node pods run on: `real` (containerd and kubelet on this host; Linux, root),
    /// `kwok`, or `auto`: real where it can run, else kwok, saying why.
    #[arg(long, value_enum, env = "HARNESS_NODE", default_value_t = NodeKind::Auto, hide_possible_values = true)]
    node: NodeKind,
}

fn parse_env(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected KEY=VALUE, got `{text}`"))
}

/// `${XDG_CACHE_HOME:-~/.cache}/akv-e2e/run/plane`, shared by `up`, `down` and `status`.
pub fn default_run_dir() -> PathBuf {
    DepsConfig::from_env()
        .bin_root
        .parent()
        .map_or_else(std::env::temp_dir, std::path::Path::to_path_buf)
        .join("run")
        .join("plane")
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = DepsConfig::from_env();
    let binaries = Binaries::ensure(&config)?;
    let assets = Assets::locate(&config)?;
    let mut options = PlaneOptions::new(&args.run_dir, binaries, assets);
    options.eso = !args.no_eso;
    options.eso_env = args
        .eso_env
        .into_iter()
        .map(|(k, v)| (OsString::from(k), OsString::from(v)))
        .collect();
    options.eso_args = args.eso_arg;
    options.component_timeout = Duration::from_secs(args.timeout);
    options.advertise_address = args.advertise_address;
    options.node = Node::choose(args.node, &config.node_cache())?;

    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        // Register SIGINT/SIGTERM before the first child exists, so no signal can arrive while
        // the default action (exit without stopping children) is still in place.
        let mut signals = Signals::new().context("cannot install signal handlers")?;
        eprintln!(
            "harness up: starting the plane in {} (logs in {}/logs)",
            args.run_dir.display(),
            args.run_dir.display()
        );
        // Ctrl-C during start drops the start future; the supervisor's Drop stops every child.
        let plane = tokio::select! {
            plane = LocalPlane::start(options) => plane?,
            () = signals.recv() => {
                eprintln!("harness up: interrupted during start; stopped everything");
                return Ok(ExitCode::from(1));
            }
        };
        for timing in plane.timings() {
            eprintln!(
                "  {:<24} ready after {:>6.2}s",
                timing.name,
                timing.ready_after.as_secs_f64()
            );
        }
        eprintln!(
            "harness up: all ready in {:.2}s (Reloader runs per scenario: `harness run --reuse` starts each scenario's own)",
            plane.ready_after().as_secs_f64(),
        );
        // A closed stdout (`harness up | head -1`) must not take the plane down: ignore errors.
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "export KUBECONFIG={}", plane.kubeconfig().display());
        let _ = writeln!(stdout, "# service-account issuer: {}", plane.issuer());
        let _ = writeln!(stdout, "# plane CA: {}", plane.ca_file().display());
        let _ = stdout.flush();
        drop(stdout);
        eprintln!("harness up: running; Ctrl-C (or `harness down`) to stop");
        signals.recv().await;
        let stopping = Instant::now();
        plane.stop().await;
        eprintln!(
            "harness up: stopped in {:.2}s",
            stopping.elapsed().as_secs_f64()
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// SIGINT and SIGTERM, registered when created.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
