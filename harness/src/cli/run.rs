//! `harness run [PATH...]`: loads scenarios, starts the bench (fake Entra ID, fake Key Vault,
//! routing proxy) in-process, runs the selected scenarios and reports them on the terminal and
//! optionally as JUnit XML and JSON lines. Exit code from the run's stats: 0 every scenario
//! passed, 1 one failed, 2 one could not run (or nothing could be loaded).

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use tokio::signal::unix::{SignalKind, signal};

use crate::cluster::{Cluster, ExistingCluster, LocalPlane};
use crate::node::NodeKind;
use crate::report::{JsonSink, JunitSink, Reporter, TerminalSink};
use crate::runner::{self, ClusterAccess, RunContext};
use crate::scenario::{self, Scenario};
use crate::serve::{Bench, Options};

/// Flags of `harness run`.
#[derive(Debug, clap::Args)]
#[command(after_help = RUN_NOTES)]
#[allow(clippy::struct_excessive_bools)] // Independent switches, as on the command line.
pub struct Args {
    /// Scenario files or folders (searched for *.yaml and *.yml).
    #[arg(default_value = "scenarios")]
    paths: Vec<PathBuf>,
    /// Only scenarios whose name contains TEXT, or with tag NAME for `tag:NAME` (repeatable: any).
    #[arg(long, value_name = "TEXT")]
    filter: Vec<String>,
    /// Leave out scenarios whose name contains TEXT, or with tag NAME for `tag:NAME`
    /// (repeatable), e.g. `--skip tag:kubernetes` for the Azure side alone. The run says how
    /// many it left out.
    #[arg(long, value_name = "TEXT")]
    skip: Vec<String>,
    /// Run up to N scenarios at once on one plane and one bench. Scenarios that change the
    /// fakes' clock or fault plan (or are tagged `serial`) still run alone.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..))]
    jobs: u16,
    /// Run only shard K of N (e.g. `2/4`, for CI matrices): the selected scenarios (after
    /// --filter, --skip and variants), sorted by name, dealt round-robin into N shards.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Write a JUnit XML report (scenario = testsuite, step = testcase).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write one JSON line per event plus a versioned summary.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Use an existing cluster instead of the local plane. Its ESO is the user's and must
    /// reach this run's fakes (see below); the run neither starts nor stops anything in it.
    #[arg(long, env = "HARNESS_KUBECONFIG", value_name = "FILE",
          conflicts_with_all = ["reuse", "no_plane", "keep"])]
    kubeconfig: Option<PathBuf>,
    /// Run on the plane `harness up` keeps in --plane-dir instead of starting one, and leave
    /// it running. Its ESO must reach this run's fakes (see below).
    #[arg(long, conflicts_with_all = ["no_plane", "keep"])]
    reuse: bool,
    /// The run directory of the plane --reuse runs on; the default is `harness up`'s
    /// (`~/.cache/akv-e2e/run/plane`).
    #[arg(long, env = "HARNESS_RUN_DIR", value_name = "DIR", hide_default_value = true,
          default_value_os_t = super::up::default_run_dir())]
    plane_dir: PathBuf,
    /// After the run, keep the plane and the fakes up for debugging (failed scenarios keep
    /// their namespace and Azure world) and print how to reach them; Ctrl-C ends.
    #[arg(long)]
    keep: bool,
    /// Do not start the local plane; scenarios that need Kubernetes then cannot run.
    #[arg(long)]
    no_plane: bool,
    /// Seconds each plane component may take to become ready.
    #[arg(long, default_value_t = 90)]
    plane_timeout: u64,
    /// The node pods run on: `real` (containerd and kubelet on this host; Linux, root),
    /// `kwok` (pods are reported Running, nothing starts), or `auto`: real where it can run,
    /// else kwok, saying why.
    #[arg(long, value_enum, env = "HARNESS_NODE", default_value_t = NodeKind::Auto, hide_possible_values = true)]
    node: NodeKind,
    /// The fakes' routing proxy address (default: a free port). Fix it, with --bench-dir, when
    /// an ESO the run did not start (--reuse, --kubeconfig) must reach the fakes.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    proxy_listen: SocketAddr,
    /// The fakes' state folder, holding their CA (default: a fresh folder per run). Fix it so
    /// the CA an outside ESO trusts stays the same from run to run.
    #[arg(long, value_name = "DIR")]
    bench_dir: Option<PathBuf>,
    /// With --kubeconfig: install ESO and Reloader from the bench's charts into the cluster
    /// for this run, wired to the fakes and checked to reach them before the first scenario,
    /// and uninstall them at the end (see below).
    #[arg(long, requires = "kubeconfig")]
    install: bool,
    /// With --install: your values file for ESO's chart, handed to Helm unchanged.
    #[arg(long, value_name = "FILE", requires = "install")]
    eso_values: Option<PathBuf>,
    /// With --install: your values file for Reloader's chart, handed to Helm unchanged.
    #[arg(long, value_name = "FILE", requires = "install")]
    reloader_values: Option<PathBuf>,
    /// With --install: the routing proxy as the cluster's pods reach it, when that is not
    /// --proxy-listen's address (e.g. `http://host.docker.internal:8400`).
    #[arg(long, value_name = "URL", requires = "install")]
    pod_proxy: Option<String>,
}

const RUN_NOTES: &str = "\
Clusters:
  By default the run starts a local plane (etcd, kube-apiserver, kcm, scheduler, kwok, ESO)
  wired to its fakes, and stops it at the end or on Ctrl-C. Each scenario that declares
  components.reloader gets a Stakater Reloader of its own, with its own flags, on the local
  plane and on a --reuse plane; on a --kubeconfig cluster scenarios meet the cluster's own.
  --reuse and --kubeconfig use a cluster whose ESO the run did not start. That ESO must run with
  HTTPS_PROXY=http://<--proxy-listen> and SSL_CERT_FILE=<--bench-dir>/ca-bundle.pem, e.g.
    harness up --eso-env HTTPS_PROXY=http://127.0.0.1:8400 \\
               --eso-env SSL_CERT_FILE=/tmp/bench/ca-bundle.pem
    harness run --reuse --proxy-listen 127.0.0.1:8400 --bench-dir /tmp/bench scenarios/seeds
  Without --install, failure dumps on a --kubeconfig cluster cannot show ESO's log.
  --kubeconfig FILE --install installs ESO and Reloader from the bench's charts instead (as
  `helm install` would, plus the proxy and CA for ESO's pods) and removes them at the end.
  The cluster's pods must reach the proxy: --proxy-listen an address of this machine they
  route to (kind: its Docker network's gateway), and the cluster must hold the bench's
  images (`harness images save DIR`, then e.g. `kind load image-archive`). Before the first
  scenario the run checks that the installed ESO syncs a secret from the fakes, and says what
  to change when it cannot.

Exit code: 0 every scenario passed, 1 a scenario failed, 2 one could not run.";

/// `--shard K/N`: the K-th of N shards, K from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    index: usize,
    count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("expected K/N with 1 <= K <= N (e.g. 2/4), got `{text}`");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Keeps this shard's scenarios, in their order. Names are unique in a run and come from
    /// the files, so the partition is the same on every machine and every scenario lands in
    /// exactly one shard; round-robin over the sorted names keeps shards within one of equal.
    pub fn retain(self, scenarios: &mut Vec<Scenario>) {
        let mut names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        let mine: std::collections::BTreeSet<String> = names
            .iter()
            .enumerate()
            .filter(|(position, _)| position % self.count == self.index - 1)
            .map(|(_, name)| (*name).to_owned())
            .collect();
        scenarios.retain(|s| mine.contains(&s.name));
    }
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
    let scenarios = selected(args)?;
    // Fewer scenarios than shards leaves some empty; that shard has nothing to fail.
    if scenarios.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let jobs = usize::from(args.jobs);
    let reporter = reporter(args, jobs)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let stats = runtime.block_on(async {
        // Registered before the plane's first child exists: SIGINT's default action would exit
        // without stopping it.
        let mut signals = Signals::new().context("cannot handle SIGINT and SIGTERM")?;
        let run_dir = std::env::temp_dir().join(format!("harness-run-{}", uuid::Uuid::new_v4()));
        let state_dir = args
            .bench_dir
            .clone()
            .unwrap_or_else(|| run_dir.join("bench"));
        // Every cloud is answered, so a scenario's `azure.cloud` (and its SecretStore's
        // `environmentType`) reaches the fakes whichever it names.
        let bench = Bench::start_with_clouds(
            Options {
                state_dir,
                directory: None,
                vaults: None,
                proxy_listen: args.proxy_listen,
            },
            &fake_kit::Cloud::ALL,
        )
        .await
        .context("cannot start the bench")?;
        let Setup {
            cluster,
            plane,
            pod_proxy,
            installed,
            no_cluster_reason,
        } = setup(args, &scenarios, &bench, &run_dir, &mut signals).await?;
        let cx = RunContext {
            bench: &bench,
            cluster,
            no_cluster_reason,
            jobs,
        };
        let reached = if installed.is_some() {
            check_reach(&cx, &bench, &mut signals).await
        } else {
            Ok(())
        };
        // On a signal the run stops where it is; the plane and the bench are still stopped
        // (after --keep's pause).
        let stats = match &reached {
            Ok(()) => tokio::select! {
                stats = runner::run(&scenarios, &cx, reporter) => stats,
                signal = signals.recv() => Err(std::io::Error::other(signal)),
            },
            Err(_) => Ok(crate::event::RunStats::default()),
        };
        if args.keep {
            keep_until_signalled(&bench, plane.as_ref(), &run_dir, &mut signals).await;
        }
        if let (Some(releases), Some(access)) = (installed, &cx.cluster) {
            eprintln!("harness run: uninstalling ESO and Reloader");
            let left = releases.uninstall(&access.client).await;
            let said = runner::operators::crds_left(&left);
            if !said.is_empty() {
                eprintln!("harness run:{said}");
            }
        }
        if let Some(proxy) = pod_proxy {
            proxy.shutdown().await;
        }
        if let Some(plane) = plane {
            plane.stop().await;
        }
        bench.shutdown().await;
        if reached.is_ok() && stats.as_ref().is_ok_and(|s| s.exit_code() == 0) {
            let _ = std::fs::remove_dir_all(&run_dir);
        } else {
            eprintln!("harness run: logs and state kept in {}", run_dir.display());
        }
        reached.map_err(anyhow::Error::msg)?;
        anyhow::Ok(stats.context("cannot write the report")?)
    })?;
    Ok(ExitCode::from(stats.exit_code()))
}

/// What the run runs scenarios on, and what it must stop or remove afterwards.
struct Setup {
    cluster: Option<ClusterAccess>,
    /// The local plane the run started.
    plane: Option<LocalPlane>,
    /// The routing proxy on the real node's bridge.
    pod_proxy: Option<crate::proxy::Proxy>,
    /// The releases `--install` installed.
    installed: Option<runner::operators::RunOperators>,
    no_cluster_reason: String,
}

/// The cluster of the run: `--kubeconfig`'s (with `--install`'s releases), `--reuse`'s plane,
/// a local plane started in `run_dir`, or none.
async fn setup(
    args: &Args,
    scenarios: &[Scenario],
    bench: &Bench,
    run_dir: &std::path::Path,
    signals: &mut Signals,
) -> anyhow::Result<Setup> {
    let mut plane = None;
    let mut pod_proxy = None;
    let mut installed = None;
    let mut no_cluster_reason = NO_CLUSTER.to_owned();
    let cluster = if let Some(path) = &args.kubeconfig {
        let cluster = ExistingCluster::from_kubeconfig(path).await?;
        let mut access = ClusterAccess::of(&cluster).await;
        if args.install {
            // A signal meanwhile is seen once the run starts, which then stops and
            // uninstalls: Helm is not left half-way.
            installed = Some(install_operators(args, bench, &mut access).await?);
        } else {
            say_how_eso_reaches(bench);
        }
        Some(access)
    } else if args.no_plane || !scenarios.iter().any(Scenario::needs_cluster) {
        None
    } else if args.reuse {
        let cluster = ExistingCluster::from_plane(&args.plane_dir).await?;
        eprintln!(
            "harness run: reusing the plane in {}",
            args.plane_dir.display()
        );
        say_how_eso_reaches(bench);
        Some(ClusterAccess::of(&cluster).await)
    } else {
        let plane_dir = run_dir.join("plane");
        eprintln!(
            "harness run: starting the local plane in {}",
            plane_dir.display()
        );
        let starting = runner::plane::start(
            bench,
            scenarios,
            &plane_dir,
            Duration::from_secs(args.plane_timeout),
            args.node,
        );
        // Dropping the start future stops every child already started.
        let started = tokio::select! {
            started = starting => started,
            signal = signals.recv() => anyhow::bail!("{signal} while the plane started"),
        };
        match started {
            Ok(started) => {
                let (access, proxy) = runner::plane::access(bench, &started).await?;
                pod_proxy = proxy;
                plane = Some(started);
                Some(access)
            }
            Err(error) => {
                no_cluster_reason = format!("the local plane did not start: {error:#}");
                None
            }
        }
    };
    Ok(Setup {
        cluster,
        plane,
        pod_proxy,
        installed,
        no_cluster_reason,
    })
}

/// The scenarios to run: loaded, filtered, skipped, then this run's shard.
fn selected(args: &Args) -> anyhow::Result<Vec<Scenario>> {
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
    if let Some(shard) = args.shard {
        let selected = scenarios.len();
        shard.retain(&mut scenarios);
        eprintln!(
            "harness run: shard {shard} has {} of {selected} scenarios",
            scenarios.len()
        );
    }
    Ok(scenarios)
}

/// The terminal report plus the files asked for.
fn reporter(args: &Args, jobs: usize) -> anyhow::Result<Reporter> {
    let mut reporter = Reporter::new();
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut terminal = TerminalSink::new(std::io::stdout(), color);
    // Interleaved step lines of scenarios running at once would be unreadable.
    terminal.group_by_scenario(jobs > 1);
    reporter.add(terminal);
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
    Ok(reporter)
}

/// Why Kubernetes scenarios cannot run with `--no-plane` and no `--kubeconfig`.
pub const NO_CLUSTER: &str = "the run has no cluster (--no-plane without --kubeconfig)";

/// `--install`: the operators' charts in the cluster, for pods that reach the proxy at
/// `--pod-proxy` or `--proxy-listen`.
async fn install_operators(
    args: &Args,
    bench: &Bench,
    access: &mut ClusterAccess,
) -> anyhow::Result<runner::operators::RunOperators> {
    let url = pod_proxy_url(args.pod_proxy.as_deref(), bench.proxy().addr())?;
    eprintln!(
        "harness run: installing ESO and Reloader from their charts; their pods reach the fakes at {url}"
    );
    access.pod_proxy = Some(url);
    let values = runner::operators::OperatorValues {
        eso: args.eso_values.clone(),
        reloader: args.reloader_values.clone(),
    };
    runner::operators::install(access, bench, &values)
        .await
        .map_err(anyhow::Error::msg)
}

/// `--install`: whether the ESO the run installed syncs a secret from the fakes.
async fn check_reach(
    cx: &RunContext<'_>,
    bench: &Bench,
    signals: &mut Signals,
) -> Result<(), String> {
    let pod_proxy = cx
        .cluster
        .as_ref()
        .and_then(|access| access.pod_proxy.as_deref())
        .unwrap_or_default();
    eprintln!("harness run: checking that the cluster's ESO reaches the fakes");
    tokio::select! {
        reached = runner::operators::check_reach(cx, pod_proxy, bench.proxy()) => reached,
        signal = signals.recv() => Err(signal.to_owned()),
    }
}

/// Where the cluster's pods reach the proxy listening on `listen`: `--pod-proxy` as given,
/// else the listen address, which must then be one pods can route to.
fn pod_proxy_url(given: Option<&str>, listen: SocketAddr) -> anyhow::Result<String> {
    if let Some(url) = given {
        return Ok(url.to_owned());
    }
    let ip = listen.ip();
    if ip.is_loopback() || ip.is_unspecified() {
        anyhow::bail!(
            "--install: the routing proxy listens on {listen}, which the cluster's pods cannot \
             name. Start the run with --proxy-listen on an address of this machine the pods \
             route to, e.g. for kind the gateway of its Docker network: --proxy-listen \
             $(docker network inspect kind -f '{{{{(index .IPAM.Config 0).Gateway}}}}'):8400 \
             (or add --pod-proxy URL when the pods know this machine by another name)"
        );
    }
    Ok(format!("http://{listen}"))
}

/// For a cluster whose ESO the run did not start: what that ESO needs to reach the fakes.
fn say_how_eso_reaches(bench: &Bench) {
    let env: Vec<String> = bench
        .eso_env()
        .iter()
        .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
        .collect();
    eprintln!(
        "harness run: the cluster's ESO must run with {}",
        env.join(" ")
    );
}

/// `--keep`: the run is over; say how to reach what it leaves up, then wait for a signal.
async fn keep_until_signalled(
    bench: &Bench,
    plane: Option<&LocalPlane>,
    run_dir: &std::path::Path,
    signals: &mut Signals,
) {
    let env_file = run_dir.join("bench.env");
    let _ = std::fs::create_dir_all(run_dir);
    let wrote = std::fs::write(&env_file, bench.env_script()).is_ok();
    eprintln!("\nharness run: --keep: the plane and the fakes stay up until Ctrl-C");
    if let Some(plane) = plane {
        eprintln!("  export KUBECONFIG={}", plane.kubeconfig().display());
        eprintln!("  logs: {}/logs", plane.run_dir().display());
        eprintln!(
            "  if this harness is killed: harness down --run-dir {}",
            plane.run_dir().display()
        );
    }
    if wrote {
        eprintln!(
            "  source {} (the fakes: proxy, CA, HARNESS_STATE_DIR for `harness vault`/`audit`)",
            env_file.display()
        );
    }
    let signal = signals.recv().await;
    eprintln!("harness run: {signal}; stopping");
}

/// SIGINT and SIGTERM, registered when created.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// Waits for either; says which.
    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "interrupted",
            _ = self.terminate.recv() => "terminated",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(names: &[&str]) -> Vec<Scenario> {
        names
            .iter()
            .map(|name| {
                crate::scenario::parse(
                    std::path::Path::new("inline.yaml"),
                    &format!("name: {name}\nsteps: []\n"),
                )
                .unwrap()
            })
            .collect()
    }

    fn shard(text: &str, scenarios: &[&str]) -> Vec<String> {
        let mut selected = named(scenarios);
        text.parse::<Shard>().unwrap().retain(&mut selected);
        selected.into_iter().map(|s| s.name).collect()
    }

    #[test]
    fn shards_partition_the_scenarios_by_sorted_name_whatever_their_order() {
        let names = ["e", "b", "a", "d", "c", "f", "g"];
        let mut reversed = names;
        reversed.reverse();
        let mut all = Vec::new();
        for k in 1..=3 {
            let mine = shard(&format!("{k}/3"), &names);
            assert_eq!(
                sorted(&mine),
                sorted(&shard(&format!("{k}/3"), &reversed)),
                "shard {k} does not depend on file order"
            );
            assert!((2..=3).contains(&mine.len()), "{mine:?}");
            all.extend(mine);
        }
        assert_eq!(sorted(&all), ["a", "b", "c", "d", "e", "f", "g"]);
        // Round-robin over the sorted names; each shard keeps the run's order.
        assert_eq!(shard("1/3", &names), ["a", "d", "g"]);
        assert_eq!(shard("2/3", &names), ["e", "b"]);
        assert_eq!(shard("1/1", &names), names);
    }

    #[test]
    fn more_shards_than_scenarios_leaves_some_empty() {
        assert_eq!(shard("2/3", &["a"]), Vec::<String>::new());
        assert_eq!(shard("1/3", &["a"]), ["a"]);
    }

    #[test]
    fn pods_reach_the_proxy_at_its_own_address_or_the_one_given() {
        let listen = |text: &str| text.parse::<SocketAddr>().unwrap();
        assert_eq!(
            pod_proxy_url(None, listen("172.18.0.1:8400")).unwrap(),
            "http://172.18.0.1:8400"
        );
        assert_eq!(
            pod_proxy_url(
                Some("http://host.docker.internal:8400"),
                listen("0.0.0.0:8400")
            )
            .unwrap(),
            "http://host.docker.internal:8400"
        );
        for unreachable in ["127.0.0.1:8400", "0.0.0.0:8400", "[::1]:8400"] {
            let error = pod_proxy_url(None, listen(unreachable))
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("--proxy-listen on an address of this machine the pods route to")
                    && error.contains(
                        "docker network inspect kind -f '{{(index .IPAM.Config 0).Gateway}}'"
                    ),
                "{error}"
            );
        }
    }

    #[test]
    fn bad_shards_are_refused_with_the_expected_form() {
        for bad in ["0/2", "3/2", "2", "a/b", "1/0", "/2", "1/"] {
            let error = bad.parse::<Shard>().unwrap_err();
            assert!(
                error.contains("expected K/N with 1 <= K <= N"),
                "{bad}: {error}"
            );
        }
        assert_eq!("2/4".parse::<Shard>().unwrap().to_string(), "2/4");
    }

    fn sorted(names: &[String]) -> Vec<String> {
        let mut names = names.to_vec();
        names.sort();
        names
    }
}
