//! Runs scenarios against a [`Bench`] (and a cluster when one is given): installs each
//! scenario's Azure world, runs its steps (`try` → `catch` on failure → `finally` always, each
//! step under its timeout), and sends [`RunEvent`](crate::event::RunEvent)s to one reporter task.
//! The runner never formats output; reports are built from the events alone.
//!
//! Up to [`RunContext::jobs`] scenarios run at once on one bench and one cluster. Each has its
//! own namespace, its own tenant and principals (fresh GUIDs) and its own vaults (suffixed
//! names, see [`crate::scenario::vault_name`]), added beside the others' and removed when it
//! ends. What cannot be split (the fakes' clock and fault plan) belongs to scenarios that
//! [run alone](Scenario::runs_alone): they wait for the others and hold the bench to themselves.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::cluster::EsoControl;
use crate::event::{
    EventSender, RunEventKind, RunStats, ScenarioRef, ScenarioResult, StepRef, StepResult,
};
use crate::reloader::{Reloader, ReloaderLauncher, scope::SCENARIO_LABEL};
use crate::report::Reporter;
use crate::scenario::spec::ComponentSpec;
use crate::scenario::{Bindings, Scenario, World};
use crate::serve::Bench;
use crate::step::{StepBody, StepContext, StepEntry, StepKind, StepOutcome};

pub(crate) mod dump;

/// Extra time a step gets past its timeout to report its own failure (polling steps stop
/// just before their deadline and say what they last saw).
const GRACE: Duration = Duration::from_secs(2);

/// The Kubernetes side of a run, as the runner sees any [`Cluster`](crate::cluster::Cluster)
/// backend.
#[derive(Clone)]
pub struct ClusterAccess {
    /// The client.
    pub client: kube::Client,
    /// Its kubeconfig, for `script` steps (`KUBECONFIG`).
    pub kubeconfig: PathBuf,
    /// The service-account issuer, for federated credentials (`${clusterIssuer}`).
    pub issuer: Option<String>,
    /// The issuer's JWKS, so fake-aad trusts service-account tokens (workload identity).
    pub issuer_keys: Option<serde_json::Value>,
    /// Where failure dumps read ESO's log (a scenario's own ESO release goes first).
    pub(crate) eso_log: dump::EsoLog,
    /// The run installed ESO's and Reloader's charts for every scenario (`--install`).
    pub(crate) run_installed: bool,
    /// How each scenario's own Reloader is started, or why the run starts none.
    pub reloaders: Result<ReloaderLauncher, String>,
    /// The kubectl `script` steps find first on their `PATH` (the plane's version, built by
    /// `harness deps`), when it is built.
    pub kubectl: Option<PathBuf>,
    /// Stops and starts the cluster's ESO, or why the harness cannot.
    pub eso: Result<EsoControl, String>,
    /// Whether pods really run (a real node or an existing cluster), or why not.
    pub runs_pods: Result<(), String>,
    /// The routing proxy as pods reach it (`${podProxy}`), on a real node.
    pub pod_proxy: Option<String>,
    /// Helm and the bench's charts, for `install: helm`, or why they cannot be had: found on
    /// the first scenario that installs a chart ([`ClusterAccess::charts`]), so a run without
    /// one does not look for them.
    charts: std::sync::OnceLock<Result<releases::Charts, String>>,
}

impl ClusterAccess {
    /// How scenarios reach `cluster`, whichever backend it is.
    pub async fn of(cluster: &impl crate::cluster::Cluster) -> Self {
        let (issuer, issuer_keys) = cluster
            .service_account_issuer()
            .await
            .map_or((None, None), |(issuer, keys)| (Some(issuer), keys));
        Self {
            client: cluster.client(),
            kubeconfig: cluster.kubeconfig().to_path_buf(),
            issuer,
            issuer_keys,
            eso_log: cluster.component_logs().map_or_else(
                |why| dump::EsoLog::Unavailable(why.to_owned()),
                |dir| dump::EsoLog::Files(dir.to_path_buf()),
            ),
            reloaders: cluster.reloaders(),
            eso: cluster.eso_control(),
            runs_pods: cluster.runs_pods(),
            pod_proxy: None,
            run_installed: false,
            charts: std::sync::OnceLock::new(),
            kubectl: crate::deps::resolve(
                &crate::deps::DepsConfig::from_env(),
                crate::deps::Component::Kubectl,
                &mut None,
            )
            .ok()
            .flatten()
            .map(|found| found.path),
        }
    }

    /// Helm against this cluster and the charts the bench provides, or why there are none.
    pub fn charts(&self) -> &Result<releases::Charts, String> {
        self.charts.get_or_init(|| charts(&self.kubeconfig))
    }
}

/// Helm against the cluster of `kubeconfig`, and the charts from the modules the bench builds
/// ESO and Reloader from.
fn charts(kubeconfig: &Path) -> Result<releases::Charts, String> {
    let config = crate::deps::DepsConfig::from_env();
    let helm = crate::deps::resolve(&config, crate::deps::Component::Helm, &mut None)
        .map_err(|e| e.to_string())?
        .ok_or("helm is not built: run `harness deps`")?;
    let assets = crate::deps::Assets::locate(&config).map_err(|e| e.to_string())?;
    Ok(releases::Charts {
        helm: crate::helm::Helm::new(helm.path, kubeconfig.to_path_buf(), config.helm_cache()),
        eso: assets.eso_chart,
        reloader: assets.reloader_chart,
        eso_crds: assets.eso_crds,
    })
}

/// What a run uses.
pub struct RunContext<'a> {
    /// The fakes.
    pub bench: &'a Bench,
    /// The cluster, if any.
    pub cluster: Option<ClusterAccess>,
    /// Why there is no cluster, for scenarios that need one.
    pub no_cluster_reason: String,
    /// How many scenarios may run at once (at least 1).
    pub jobs: usize,
}

/// Runs `scenarios`, up to `cx.jobs` at once and started in order, sending events to
/// `reporter`; returns the totals.
pub async fn run(
    scenarios: &[Scenario],
    cx: &RunContext<'_>,
    reporter: Reporter,
) -> std::io::Result<RunStats> {
    use futures::StreamExt as _;

    let (events, rx) = EventSender::channel();
    let report_task = tokio::spawn(reporter.consume(rx));
    events.emit(RunEventKind::RunStarted {
        scenarios: scenarios.len(),
    });
    clear_bench(cx.bench);
    // Readers run side by side; a scenario that runs alone takes it for writing. tokio's lock
    // is fair, so a waiting writer is not starved by the readers queued after it.
    let shared = tokio::sync::RwLock::new(());
    let (shared, events_ref) = (&shared, &events);
    let mut finished = futures::stream::iter(scenarios.iter().enumerate())
        .map(|(index, scenario)| async move {
            let alone = scenario.runs_alone();
            let _alone = if alone {
                Some(shared.write().await)
            } else {
                None
            };
            let _beside = if alone {
                None
            } else {
                Some(shared.read().await)
            };
            run_scenario(index, scenario, cx, events_ref).await
        })
        .buffer_unordered(cx.jobs.max(1));
    let mut stats = RunStats::default();
    while let Some(result) = finished.next().await {
        stats.record(&result);
    }
    drop(finished);
    events.emit(RunEventKind::RunFinished { stats });
    drop(events);
    report_task
        .await
        .map_err(|e| std::io::Error::other(format!("reporter task: {e}")))??;
    Ok(stats)
}

async fn run_scenario(
    index: usize,
    scenario: &Scenario,
    cx: &RunContext<'_>,
    events: &EventSender,
) -> ScenarioResult {
    let reference = ScenarioRef {
        index,
        name: scenario.name.clone(),
        file: scenario.file.display().to_string(),
    };
    events.emit(RunEventKind::ScenarioStarted {
        scenario: reference.clone(),
    });
    let started = Instant::now();
    let result = match prepare(scenario, cx).await {
        Err(message) => ScenarioResult::Error { message },
        Ok(mut prepared) => {
            let mut run = ScenarioRun {
                scenario,
                reference: reference.clone(),
                cx,
                events,
                prepared: &mut prepared,
            };
            let failure = run
                .entries(&scenario.steps, String::new(), scenario.timeout, false)
                .await;
            if let Some(reloader) = prepared.reloader.take() {
                reloader.shutdown(failure.is_some()).await;
            }
            if let Some(cluster) = &cx.cluster {
                releases::remove(std::mem::take(&mut prepared.releases), cluster).await;
            }
            // A failed scenario's namespace and Azure world stay for whoever debugs it
            // (`--keep`); ESO keeps reconciling against them, so both go together.
            if failure.is_none() {
                if let Some(cluster) = &cx.cluster {
                    delete_namespace(&cluster.client, &prepared.namespace).await;
                }
                uninstall(cx.bench, &prepared.world);
            }
            match failure {
                None => ScenarioResult::Passed,
                Some(reason) => ScenarioResult::Failed { reason },
            }
        }
    };
    events.emit(RunEventKind::ScenarioFinished {
        scenario: reference,
        result: result.clone(),
        duration: started.elapsed(),
    });
    result
}

/// A scenario's world, installed in the bench.
struct Prepared {
    world: World,
    bindings: Bindings,
    namespace: String,
    audit_mark: u64,
    aad_audit_mark: u64,
    env: Vec<(String, String)>,
    /// The scenario's own Reloader, when it declares one and the run starts them.
    reloader: Option<Reloader>,
    /// Its Helm releases.
    releases: releases::Installed,
}

async fn prepare(scenario: &Scenario, cx: &RunContext<'_>) -> Result<Prepared, String> {
    if scenario.needs_cluster() && cx.cluster.is_none() {
        return Err(format!(
            "needs a Kubernetes cluster: {}",
            cx.no_cluster_reason
        ));
    }
    let bench = cx.bench;
    // Each scenario starts on real time with no faults. Only scenarios that run alone change
    // either, so this never pulls the clock from under a scenario running beside.
    let clock = bench.akv().state().clock();
    if clock.status().1 {
        clock.resume();
    }
    clock.advance(-clock.status().0);
    bench
        .akv()
        .state()
        .set_faults(fake_akv::FaultPlan::default());

    let mut bindings = Bindings::default();
    for (name, value) in &scenario.vars {
        bindings.set(name.clone(), value.clone());
    }
    let namespace = namespace_for(&scenario.name);
    bindings.set("namespace", namespace.clone());
    bindings.set("scenario", scenario.name.clone());
    if let Some(cluster) = &cx.cluster {
        bindings.set("kubeconfig", cluster.kubeconfig.display().to_string());
        if let Some(issuer) = &cluster.issuer {
            bindings.set("clusterIssuer", issuer.clone());
        }
        // Where pods reach the fakes; on a cluster without a real node (whose pods never
        // run) the harness's own proxy stands in.
        bindings.set(
            "podProxy",
            cluster
                .pod_proxy
                .clone()
                .unwrap_or_else(|| bench.proxy().url()),
        );
    }
    let world = resolve_world(scenario, cx, clock.now(), &mut bindings)?;
    let audit_mark = bench.akv().state().audit().end();
    let aad_audit_mark = bench.aad().state().audit().end();
    install(bench, &world)?;

    let kubectl = cx.cluster.as_ref().and_then(|c| c.kubectl.as_deref());
    let env = client_env(bench, &bindings, kubectl);
    for (key, value) in &env {
        bindings.set(format!("env.{key}"), value.clone());
    }
    let mut reloader = None;
    let mut installed = releases::Installed::default();
    if let Some(cluster) = &cx.cluster {
        create_namespace(&cluster.client, &namespace).await?;
        installed = releases::install(scenario, cluster, bench, &bindings).await?;
        if scenario.components.reloader.enabled()
            && scenario.components.reloader.helm().is_none()
            && let Ok(launcher) = &cluster.reloaders
        {
            match start_reloader(scenario, launcher, &namespace, &bindings).await {
                Ok(started) => reloader = Some(started),
                Err(message) => {
                    releases::remove(installed, cluster).await;
                    return Err(message);
                }
            }
        }
    }
    Ok(Prepared {
        world,
        bindings,
        namespace,
        audit_mark,
        aad_audit_mark,
        env,
        reloader,
        releases: installed,
    })
}

/// The scenario's Reloader with the flags it declares (variables substituted), before its
/// first step: flags Reloader refuses fail the scenario here, with Reloader's own words.
async fn start_reloader(
    scenario: &Scenario,
    launcher: &ReloaderLauncher,
    namespace: &str,
    bindings: &Bindings,
) -> Result<Reloader, String> {
    let args = match &scenario.components.reloader {
        ComponentSpec::Options(options) => options
            .args
            .iter()
            .map(|arg| bindings.substitute(arg))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("components.reloader.args: {e}"))?,
        ComponentSpec::Enabled(_) => Vec::new(),
    };
    launcher.start(namespace, &args).await.map_err(|e| {
        format!(
            "Reloader for scenario `{}` did not start: {e}",
            scenario.name
        )
    })
}

/// The scenario's world with `${variables}` substituted in federated credentials, plus the
/// cluster's service-account issuer as a trusted issuer.
fn resolve_world(
    scenario: &Scenario,
    cx: &RunContext<'_>,
    now: time::OffsetDateTime,
    bindings: &mut Bindings,
) -> Result<World, String> {
    // Variables may appear in federated-credential subjects and issuers.
    let mut azure = scenario.azure.clone();
    for credential in azure
        .apps
        .iter_mut()
        .flat_map(|a| a.federated_credentials.iter_mut())
        .chain(
            azure
                .managed_identities
                .iter_mut()
                .flat_map(|m| m.federated_credentials.iter_mut()),
        )
    {
        credential.issuer = bindings
            .substitute(&credential.issuer)
            .map_err(|e| e.to_string())?;
        credential.subject = bindings
            .substitute(&credential.subject)
            .map_err(|e| e.to_string())?;
    }
    let mut world = World::build(&azure, now, bindings).map_err(|e| e.to_string())?;
    if let Some(cluster) = &cx.cluster
        && let Some(issuer) = &cluster.issuer
    {
        world
            .directory
            .issuers
            .push(fake_aad::directory::TrustedIssuer {
                issuer: issuer.clone(),
                jwks_uri: None,
                keys: cluster.issuer_keys.clone(),
            });
    }
    Ok(world)
}

/// The environment of `script` steps: the bench's, with the scenario's credentials, and the
/// plane's kubectl first on the `PATH`.
fn client_env(bench: &Bench, bindings: &Bindings, kubectl: Option<&Path>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = bench
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .filter(|(k, _)| !k.starts_with("AZURE_"))
        .collect();
    for (key, binding) in [
        ("AZURE_TENANT_ID", "tenantId"),
        ("AZURE_CLIENT_ID", "clientId"),
        ("AZURE_CLIENT_SECRET", "clientSecret"),
        ("AZURE_KEYVAULT_URL", "vaultUrl"),
        ("NAMESPACE", "namespace"),
        ("KUBECONFIG", "kubeconfig"),
    ] {
        if let Some(value) = bindings.get(binding) {
            env.push((key.to_owned(), value.to_owned()));
        }
    }
    if let Some(dir) = kubectl.and_then(Path::parent) {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![dir.to_path_buf()];
        dirs.extend(std::env::split_paths(&path));
        if let Ok(joined) = std::env::join_paths(dirs) {
            env.push(("PATH".to_owned(), joined.to_string_lossy().into_owned()));
        }
    }
    env
}

/// Empties the fakes of the bench's starting world, which no scenario asked for.
fn clear_bench(bench: &Bench) {
    let _ = bench
        .aad()
        .state()
        .replace_directory(fake_aad::Directory::default());
    let akv = bench.akv().state();
    for name in akv.vault_names() {
        let _ = akv.remove_vault(&name);
    }
}

/// Adds the scenario's tenant, trusted issuers and vaults beside those of scenarios running
/// at the same time.
fn install(bench: &Bench, world: &World) -> Result<(), String> {
    let aad = bench.aad().state();
    let refused = |e: fake_aad::operations::DirectoryError| format!("install the directory: {e}");
    for tenant in &world.directory.tenants {
        aad.put_tenant(tenant.clone()).map_err(refused)?;
    }
    // The issuers are the cluster's: every scenario on it trusts the same.
    for issuer in &world.directory.issuers {
        aad.trust_issuer(issuer.clone()).map_err(refused)?;
    }
    // IMDS asked for no particular identity answers for the default: the newest scenario's
    // first identity. One that declares identities runs alone (`Scenario::runs_alone`), so the
    // default is its own.
    if let Some(identity) = world
        .directory
        .tenants
        .iter()
        .flat_map(|t| &t.managed_identities)
        .next()
    {
        aad.set_default_managed_identity(Some(identity.client_id.to_string()))
            .map_err(refused)?;
    }
    let akv = bench.akv().state();
    for vault in &world.vaults {
        akv.put_vault(vault.clone())
            .map_err(|e| format!("vault {}: {e}", vault.name))?;
    }
    akv.set_default_vault(world.default_vault().map(str::to_owned));
    Ok(())
}

/// Removes what [`install`] added. Shared issuers stay: they are the cluster's.
fn uninstall(bench: &Bench, world: &World) {
    let _ = bench.aad().state().remove_tenant(world.tenant_id);
    let akv = bench.akv().state();
    for vault in &world.vaults {
        let _ = akv.remove_vault(&vault.name);
    }
}

/// `h-<slug>-<4 hex>`, a valid namespace name unique to this run of the scenario.
fn namespace_for(name: &str) -> String {
    let mut slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    slug.truncate(48);
    let slug = slug.trim_matches('-');
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..4];
    format!("h-{slug}-{suffix}").replace("--", "-")
}

async fn create_namespace(client: &kube::Client, namespace: &str) -> Result<(), String> {
    let yaml = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n  labels:\n    {SCENARIO_LABEL}: {namespace}\n"
    );
    crate::k8s::apply_yaml(client, &yaml)
        .await
        .map(|_| ())
        .map_err(|e| format!("create namespace {namespace}: {e}"))
}

async fn delete_namespace(client: &kube::Client, namespace: &str) {
    let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(client.clone());
    if let Err(error) = api
        .delete(namespace, &kube::api::DeleteParams::default())
        .await
    {
        tracing::warn!(%error, namespace, "namespace not deleted");
    }
}

type Boxed<'s, T> = Pin<Box<dyn Future<Output = T> + 's>>;

struct ScenarioRun<'r, 'a> {
    scenario: &'r Scenario,
    reference: ScenarioRef,
    cx: &'r RunContext<'a>,
    events: &'r EventSender,
    prepared: &'r mut Prepared,
}

impl ScenarioRun<'_, '_> {
    /// Runs `entries` (skipping them all when `skip`); returns the first fatal reason.
    fn entries<'s>(
        &'s mut self,
        entries: &'s [StepEntry],
        prefix: String,
        timeout: Duration,
        skip: bool,
    ) -> Boxed<'s, Option<String>> {
        Box::pin(async move {
            let mut failure: Option<String> = None;
            for (i, entry) in entries.iter().enumerate() {
                let path = format!("{prefix}{}", i + 1);
                let timeout = entry
                    .timeout
                    .as_ref()
                    .map_or(timeout, crate::duration::DurationSpec::get);
                if skip || failure.is_some() {
                    self.skipped(entry, &path);
                    continue;
                }
                let fatal = match &entry.body {
                    StepBody::Action(kind) => self.action(entry, kind, &path, timeout).await,
                    StepBody::Block {
                        try_,
                        catch,
                        finally,
                    } => {
                        let tried = self
                            .entries(try_, format!("{path}.try."), timeout, false)
                            .await;
                        self.entries(catch, format!("{path}.catch."), timeout, tried.is_none())
                            .await;
                        let cleaned = self
                            .entries(finally, format!("{path}.finally."), timeout, false)
                            .await;
                        tried.or(cleaned).filter(|_| !entry.continue_on_error)
                    }
                };
                failure = failure.or(fatal);
            }
            failure
        })
    }

    fn step_ref(entry: &StepEntry, kind: Option<&StepKind>, path: &str) -> StepRef {
        StepRef {
            path: path.to_owned(),
            name: entry
                .name
                .clone()
                .unwrap_or_else(|| kind.map_or_else(|| "block".to_owned(), StepKind::describe)),
            kind: kind.map_or("try", StepKind::name).to_owned(),
        }
    }

    fn skipped(&self, entry: &StepEntry, path: &str) {
        let kind = match &entry.body {
            StepBody::Action(kind) => Some(kind),
            StepBody::Block { .. } => None,
        };
        self.events.emit(RunEventKind::StepFinished {
            scenario: self.reference.clone(),
            step: Self::step_ref(entry, kind, path),
            result: StepResult::Skipped,
            duration: Duration::ZERO,
        });
    }

    /// True (and says why) when `kind` looks inside containers but pods do not really run.
    fn skip_without_pods(&self, kind: &StepKind, step: &StepRef) -> bool {
        let Some(Err(why)) = self
            .cx
            .cluster
            .as_ref()
            .filter(|_| kind.needs_real_node())
            .map(|c| &c.runs_pods)
        else {
            return false;
        };
        self.events.emit(RunEventKind::StepOutput {
            scenario: self.reference.clone(),
            step: step.clone(),
            stream: crate::event::OutputStream::Stdout,
            text: format!("skipped: {why}"),
        });
        true
    }

    /// Runs one action; returns its reason when it fails the scenario.
    async fn action(
        &mut self,
        entry: &StepEntry,
        kind: &StepKind,
        path: &str,
        timeout: Duration,
    ) -> Option<String> {
        let tolerated = entry.continue_on_error;
        let substituted = substitute(kind, &self.prepared.bindings);
        let step = Self::step_ref(entry, substituted.as_ref().ok(), path);
        self.events.emit(RunEventKind::StepStarted {
            scenario: self.reference.clone(),
            step: step.clone(),
        });
        let started = Instant::now();
        let result = match substituted {
            Err(message) => StepResult::Error { message, tolerated },
            Ok(kind) if self.skip_without_pods(&kind, &step) => StepResult::Skipped,
            Ok(kind) => {
                let deadline = tokio::time::Instant::now() + timeout;
                let mut cx = StepContext {
                    bench: self.cx.bench,
                    kube: self.cx.cluster.as_ref().map(|c| c.client.clone()),
                    bindings: &mut self.prepared.bindings,
                    world: &self.prepared.world,
                    namespace: self.prepared.namespace.clone(),
                    audit_mark: self.prepared.audit_mark,
                    deadline,
                    base_dir: self.scenario.base_dir(),
                    env: self.prepared.env.clone(),
                    events: self.events,
                    scenario: self.reference.clone(),
                    step: step.clone(),
                    reloader: self.prepared.reloader.as_mut(),
                    eso: self.cx.cluster.as_ref().map(|c| c.eso.as_ref()),
                    releases: self.prepared.releases.releases.as_mut(),
                };
                match tokio::time::timeout(timeout + GRACE, kind.run(&mut cx)).await {
                    Ok(Ok(StepOutcome::Passed)) => StepResult::Passed,
                    Ok(Ok(StepOutcome::Failed { reason })) => {
                        StepResult::Failed { reason, tolerated }
                    }
                    Ok(Err(error)) => StepResult::Error {
                        message: format!("{error:#}"),
                        tolerated,
                    },
                    Err(_) => StepResult::TimedOut {
                        after: timeout,
                        tolerated,
                    },
                }
            }
        };
        if result.is_fatal() {
            let cluster = self.cx.cluster.as_ref();
            let eso_log = match (cluster, self.prepared.releases.eso_log()) {
                (_, Some(release)) => release,
                (Some(c), None) => c.eso_log.clone(),
                (None, None) => dump::EsoLog::Unavailable(self.cx.no_cluster_reason.clone()),
            };
            let reloader_log = self.prepared.reloader.as_ref().map(Reloader::log_file);
            let reloader_log = self.scenario.components.reloader.enabled().then(|| {
                reloader_log.as_deref().ok_or_else(|| match cluster {
                    Some(c) => c.reloaders.as_ref().err().map_or("", String::as_str),
                    None => self.cx.no_cluster_reason.as_str(),
                })
            });
            let dump = dump::gather(
                cluster.map(|c| &c.client),
                &eso_log,
                reloader_log,
                &self.prepared.namespace,
                self.cx.bench,
                &self.prepared.world,
                (self.prepared.audit_mark, self.prepared.aad_audit_mark),
            )
            .await;
            self.events.emit(RunEventKind::StepOutput {
                scenario: self.reference.clone(),
                step: step.clone(),
                stream: crate::event::OutputStream::Dump,
                text: dump.render(),
            });
        }
        let fatal = result.is_fatal().then(|| match &result {
            StepResult::Failed { reason, .. } => format!("step {path} ({}): {reason}", step.name),
            StepResult::Error { message, .. } => format!("step {path} ({}): {message}", step.name),
            StepResult::TimedOut { after, .. } => {
                format!("step {path} ({}): timed out after {after:?}", step.name)
            }
            StepResult::Passed | StepResult::Skipped => String::new(),
        });
        self.events.emit(RunEventKind::StepFinished {
            scenario: self.reference.clone(),
            step,
            result,
            duration: started.elapsed(),
        });
        fatal
    }
}

/// `kind` with every `${variable}` in its strings replaced.
fn substitute(kind: &StepKind, bindings: &Bindings) -> Result<StepKind, String> {
    let mut value = serde_json::to_value(kind).expect("steps serialise");
    bindings
        .substitute_json(&mut value)
        .map_err(|e| e.to_string())?;
    serde_json::from_value(value).map_err(|e| format!("after substitution: {e}"))
}

pub mod operators;
pub mod plane;
pub mod releases;

#[cfg(test)]
mod tests;
