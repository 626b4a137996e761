//! `harness run [PATH...]`: loads scenarios, starts the bench (fake Entra ID, fake Key Vault,
//! routing proxy) in-process, runs the selected scenarios and reports them on the terminal and
//! optionally as JUnit XML and JSON lines. Exit code from the run's stats: 0 every scenario
//! passed, 1 one failed, 2 one could not run (or nothing could be loaded).

use std::ffi::OsString;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use tokio::signal::unix::{SignalKind, signal};

use crate::cluster::{Cluster, LocalPlane, PlaneOptions};
use crate::deps::{Assets, Binaries, DepsConfig};
use crate::report::{JsonSink, JunitSink, Reporter, TerminalSink};
use crate::runner::{self, ClusterAccess, RunContext};
use crate::scenario::{self, Scenario};
use crate::serve::{Bench, Options};

/// Flags of `harness run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files or folders (searched for *.yaml and *.yml).
    #[arg(default_value = "scenarios")]
    paths: Vec<PathBuf>,
    /// Only scenarios whose name contains TEXT, or with tag NAME for `tag:NAME` (repeatable: any).
    #[arg(long, value_name = "TEXT")]
    filter: Vec<String>,
    /// Leave out scenarios whose name contains TEXT, or with tag NAME for `tag:NAME`
    /// (repeatable), e.g. `--skip tag:reloader` where no Reloader binary is available. The run
    /// says how many it left out.
    #[arg(long, value_name = "TEXT")]
    skip: Vec<String>,
    /// Write a JUnit XML report (scenario = testsuite, step = testcase).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write one JSON line per event plus a versioned summary.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// A cluster for Kubernetes steps instead of the local plane (its ESO must reach the
    /// bench's proxy).
    #[arg(long, env = "HARNESS_KUBECONFIG", value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Do not start the local plane; scenarios that need Kubernetes then cannot run.
    #[arg(long)]
    no_plane: bool,
    /// Seconds each plane component may take to become ready.
    #[arg(long, default_value_t = 90)]
    plane_timeout: u64,
}

/// Loads every scenario under `paths` and keeps those `filters` select (all when empty).
pub fn select(paths: &[PathBuf], filters: &[String]) -> anyhow::Result<Vec<Scenario>> {
    let files = scenario::discover(paths).context("cannot list scenario files")?;
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match scenario::load(&file) {
            Ok(s) => scenarios.extend(s.expand()),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !errors.is_empty() {
        anyhow::bail!("invalid scenario files:\n{}", errors.join("\n"));
    }
    scenarios.retain(|s| filters.is_empty() || filters.iter().any(|f| s.matches(f)));
    let mut seen = std::collections::BTreeMap::new();
    for s in &scenarios {
        if let Some(first) = seen.insert(s.name.as_str(), &s.file) {
            anyhow::bail!(
                "scenario name `{}` is used by {} and {}",
                s.name,
                first.display(),
                s.file.display()
            );
        }
    }
    Ok(scenarios)
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let mut scenarios = select(&args.paths, &args.filter)?;
    let before = scenarios.len();
    scenarios.retain(|s| !args.skip.iter().any(|f| s.matches(f)));
    if scenarios.len() < before {
        eprintln!(
            "harness run: --skip left out {} of {} scenarios",
            before - scenarios.len(),
            before
        );
    }
    if scenarios.is_empty() {
        anyhow::bail!("no scenario selected");
    }
    let mut reporter = Reporter::new();
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    reporter.add(TerminalSink::new(std::io::stdout(), color));
    if let Some(path) = &args.junit {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        reporter.add(JunitSink::new(std::io::BufWriter::new(file)));
    }
    if let Some(path) = &args.json {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        reporter.add(JsonSink::new(std::io::BufWriter::new(file)));
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let stats = runtime.block_on(async {
        // Registered before the plane's first child exists: SIGINT's default action would exit
        // without stopping it.
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let run_dir = std::env::temp_dir().join(format!("harness-run-{}", uuid::Uuid::new_v4()));
        let state_dir = run_dir.join("bench");
        // Every cloud is answered, so a scenario's `azure.cloud` (and its SecretStore's
        // `environmentType`) reaches the fakes whichever it names.
        let bench = Bench::start_with_clouds(
            Options {
                state_dir: state_dir.clone(),
                directory: None,
                vaults: None,
                proxy_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            },
            &fake_kit::Cloud::ALL,
        )
        .await
        .context("cannot start the bench")?;
        let mut plane = None;
        let mut no_cluster_reason = NO_CLUSTER.to_owned();
        let cluster = if let Some(path) = &args.kubeconfig {
            Some(ClusterAccess {
                client: crate::k8s::client_from_kubeconfig(path).await?,
                kubeconfig: Some(path.clone()),
                issuer: None,
                issuer_keys: None,
            })
        } else if args.no_plane || !scenarios.iter().any(Scenario::needs_cluster) {
            None
        } else {
            let plane_dir = run_dir.join("plane");
            let starting = start_plane(&bench, &scenarios, &plane_dir, args.plane_timeout);
            // Dropping the start future stops every child already started.
            let started = tokio::select! {
                started = starting => started,
                _ = interrupt.recv() => anyhow::bail!("interrupted while the plane started"),
                _ = terminate.recv() => anyhow::bail!("terminated while the plane started"),
            };
            match started {
                Ok(started) => {
                    let access = plane_access(&started).await;
                    plane = Some(started);
                    Some(access)
                }
                Err(error) => {
                    no_cluster_reason = format!("the local plane did not start: {error:#}");
                    None
                }
            }
        };
        let cx = RunContext {
            bench: &bench,
            cluster,
            no_cluster_reason,
        };
        // On a signal the run stops where it is; the plane and the bench are still stopped.
        let stats = tokio::select! {
            stats = runner::run(&scenarios, &cx, reporter) => stats,
            _ = interrupt.recv() => Err(std::io::Error::other("interrupted")),
            _ = terminate.recv() => Err(std::io::Error::other("terminated")),
        };
        if let Some(plane) = plane {
            plane.stop().await;
        }
        bench.shutdown().await;
        if stats.as_ref().is_ok_and(|s| s.exit_code() == 0) {
            let _ = std::fs::remove_dir_all(&run_dir);
        } else {
            eprintln!("harness run: logs and state kept in {}", run_dir.display());
        }
        anyhow::Ok(stats.context("cannot write the report")?)
    })?;
    Ok(ExitCode::from(stats.exit_code()))
}

/// Why Kubernetes scenarios cannot run with `--no-plane` and no `--kubeconfig`.
pub const NO_CLUSTER: &str = "the run has no cluster (--no-plane without --kubeconfig)";

/// How scenarios reach a started plane.
pub(crate) async fn plane_access(plane: &LocalPlane) -> ClusterAccess {
    ClusterAccess {
        client: plane.client(),
        kubeconfig: Some(plane.kubeconfig().to_path_buf()),
        issuer: Some(plane.issuer().to_owned()),
        issuer_keys: plane.service_account_jwks().await.ok(),
    }
}

/// Starts the local plane with ESO (and Reloader) pointed at the bench: ESO reaches Azure's
/// host names through the routing proxy and trusts the bench's CA.
pub(crate) async fn start_plane(
    bench: &Bench,
    scenarios: &[Scenario],
    run_dir: &std::path::Path,
    timeout: u64,
) -> anyhow::Result<LocalPlane> {
    let config = DepsConfig::from_env();
    let binaries = Binaries::ensure(&config)?;
    let assets = Assets::locate(&config)?;
    let mut options = PlaneOptions::new(run_dir, binaries, assets);
    options.eso = scenarios.iter().any(|s| s.components.eso.enabled());
    options.reloader = scenarios.iter().any(|s| s.components.reloader.enabled());
    options.reloader_args = scenarios
        .iter()
        .filter_map(|s| match &s.components.reloader {
            crate::scenario::spec::ComponentSpec::Options(o) => Some(o.args.clone()),
            crate::scenario::spec::ComponentSpec::Enabled(_) => None,
        })
        .flatten()
        .collect();
    options.eso_env = bench
        .env()
        .into_iter()
        .filter(|(k, _)| ["HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "SSL_CERT_FILE"].contains(k))
        .map(|(k, v)| (OsString::from(k), OsString::from(v)))
        .collect();
    options.component_timeout = Duration::from_secs(timeout);
    eprintln!(
        "harness run: starting the local plane in {}",
        run_dir.display()
    );
    Ok(LocalPlane::start(options).await?)
}
