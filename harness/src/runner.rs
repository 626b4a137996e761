//! Runs scenarios against a [`Bench`] (and a cluster when one is given): installs each
//! scenario's Azure world, runs its steps (`try` → `catch` on failure → `finally` always, each
//! step under its timeout), and sends [`RunEvent`](crate::event::RunEvent)s to one reporter task.
//! The runner never formats output; reports are built from the events alone.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::event::{
    EventSender, RunEventKind, RunStats, ScenarioRef, ScenarioResult, StepRef, StepResult,
};
use crate::report::Reporter;
use crate::scenario::{Bindings, Scenario, World};
use crate::serve::Bench;
use crate::step::{StepBody, StepContext, StepEntry, StepKind, StepOutcome};

/// Extra time a step gets past its timeout to report its own failure (polling steps stop
/// just before their deadline and say what they last saw).
const GRACE: Duration = Duration::from_secs(2);

/// The Kubernetes side of a run.
#[derive(Clone)]
pub struct ClusterAccess {
    /// The client.
    pub client: kube::Client,
    /// Its kubeconfig, for `script` steps (`KUBECONFIG`).
    pub kubeconfig: Option<PathBuf>,
    /// The service-account issuer, for federated credentials (`${clusterIssuer}`).
    pub issuer: Option<String>,
    /// The issuer's JWKS, so fake-aad trusts service-account tokens (workload identity).
    pub issuer_keys: Option<serde_json::Value>,
}

/// What a run uses.
pub struct RunContext<'a> {
    /// The fakes.
    pub bench: &'a Bench,
    /// The cluster, if any.
    pub cluster: Option<ClusterAccess>,
    /// Why there is no cluster, for scenarios that need one.
    pub no_cluster_reason: String,
}

/// Runs `scenarios` in order, sending events to `reporter`; returns the totals.
pub async fn run(
    scenarios: &[Scenario],
    cx: &RunContext<'_>,
    reporter: Reporter,
) -> std::io::Result<RunStats> {
    let (events, rx) = EventSender::channel();
    let report_task = tokio::spawn(reporter.consume(rx));
    events.emit(RunEventKind::RunStarted {
        scenarios: scenarios.len(),
    });
    let mut stats = RunStats::default();
    for (index, scenario) in scenarios.iter().enumerate() {
        let result = run_scenario(index, scenario, cx, &events).await;
        stats.record(&result);
    }
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
            let namespace = prepared.namespace.clone();
            if failure.is_none()
                && let Some(cluster) = &cx.cluster
            {
                delete_namespace(&cluster.client, &namespace).await;
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
    env: Vec<(String, String)>,
}

async fn prepare(scenario: &Scenario, cx: &RunContext<'_>) -> Result<Prepared, String> {
    if scenario.needs_cluster() && cx.cluster.is_none() {
        return Err(format!(
            "needs a Kubernetes cluster: {}",
            cx.no_cluster_reason
        ));
    }
    let bench = cx.bench;
    // Each scenario starts on real time with no faults.
    let clock = bench.akv().state().clock();
    if clock.status().1 {
        clock.resume();
    }
    clock.advance(-clock.status().0);
    bench
        .akv()
        .state()
        .set_faults(fake_akv::state::FaultPlan::default());

    let mut bindings = Bindings::default();
    for (name, value) in &scenario.vars {
        bindings.set(name.clone(), value.clone());
    }
    let namespace = namespace_for(&scenario.name);
    bindings.set("namespace", namespace.clone());
    bindings.set("scenario", scenario.name.clone());
    if let Some(cluster) = &cx.cluster {
        if let Some(path) = &cluster.kubeconfig {
            bindings.set("kubeconfig", path.display().to_string());
        }
        if let Some(issuer) = &cluster.issuer {
            bindings.set("clusterIssuer", issuer.clone());
        }
    }
    let world = resolve_world(scenario, cx, clock.now(), &mut bindings)?;
    install(bench, &world)?;
    let audit_mark = bench
        .akv()
        .state()
        .audit()
        .since(0)
        .last()
        .map_or(0, |e| e.seq);

    let env = client_env(bench, &bindings);
    for (key, value) in &env {
        bindings.set(format!("env.{key}"), value.clone());
    }
    if let Some(cluster) = &cx.cluster {
        create_namespace(&cluster.client, &namespace).await?;
    }
    Ok(Prepared {
        world,
        bindings,
        namespace,
        audit_mark,
        env,
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

/// The environment of `script` steps: the bench's, with the scenario's credentials.
fn client_env(bench: &Bench, bindings: &Bindings) -> Vec<(String, String)> {
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
    env
}

/// Replaces the fakes' directory and vaults with the scenario's.
fn install(bench: &Bench, world: &World) -> Result<(), String> {
    bench
        .aad()
        .state()
        .update_directory(|d| *d = world.directory.clone())
        .map_err(|e| format!("install the directory: {e}"))?;
    let akv = bench.akv().state();
    for name in akv.vault_names() {
        let _ = akv.remove_vault(&name);
    }
    for vault in &world.vaults {
        akv.put_vault(vault.clone())
            .map_err(|e| format!("vault {}: {e}", vault.name))?;
    }
    akv.set_default_vault(world.default_vault().map(str::to_owned));
    Ok(())
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
    let yaml = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n");
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
                    .map_or(timeout, crate::scenario::spec::DurationSpec::get);
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
                    base_dir: self
                        .scenario
                        .file
                        .parent()
                        .filter(|p| !p.as_os_str().is_empty())
                        .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf),
                    env: self.prepared.env.clone(),
                    events: self.events,
                    scenario: self.reference.clone(),
                    step: step.clone(),
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
        if result.is_fatal()
            && let Some(cluster) = &self.cx.cluster
        {
            let dump = diagnostics(&cluster.client, &self.prepared.namespace).await;
            self.events.emit(RunEventKind::StepOutput {
                scenario: self.reference.clone(),
                step: step.clone(),
                stream: crate::event::OutputStream::Log,
                text: dump,
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

/// What a failed step's reader needs from the cluster: the namespace's events and the
/// conditions of ESO's objects in it.
async fn diagnostics(client: &kube::Client, namespace: &str) -> String {
    use std::fmt::Write as _;
    let mut out = format!("namespace {namespace}:\n");
    let events: kube::Api<k8s_openapi::api::core::v1::Event> =
        kube::Api::namespaced(client.clone(), namespace);
    match events.list(&kube::api::ListParams::default()).await {
        Ok(list) => {
            // Controllers repeat a warning on every retry: show each (type, reason, object)
            // once, with its latest message and how often it came.
            let mut seen: Vec<(String, String, u32)> = Vec::new();
            for event in &list.items {
                let key = format!(
                    "{} {} {}/{}",
                    event.type_.as_deref().unwrap_or("-"),
                    event.reason.as_deref().unwrap_or("-"),
                    event.involved_object.kind.as_deref().unwrap_or("-"),
                    event.involved_object.name.as_deref().unwrap_or("-"),
                );
                let message = event.message.as_deref().unwrap_or("").trim().to_owned();
                let count = event.count.unwrap_or(1).max(1) as u32;
                match seen.iter_mut().find(|(k, _, _)| *k == key) {
                    Some(entry) => {
                        entry.1 = message;
                        entry.2 += count;
                    }
                    None => seen.push((key, message, count)),
                }
            }
            for (key, message, count) in seen {
                let times = if count > 1 {
                    format!(" (x{count})")
                } else {
                    String::new()
                };
                let _ = writeln!(out, "  event {key}{times}: {message}");
            }
        }
        Err(error) => {
            let _ = writeln!(out, "  events: {error}");
        }
    }
    for kind in ["SecretStore", "ExternalSecret"] {
        let gvk = kube::core::GroupVersionKind::gvk("external-secrets.io", "v1", kind);
        let Ok((resource, _)) = kube::discovery::pinned_kind(client, &gvk).await else {
            continue;
        };
        let api: kube::Api<kube::api::DynamicObject> =
            kube::Api::namespaced_with(client.clone(), namespace, &resource);
        let Ok(list) = api.list(&kube::api::ListParams::default()).await else {
            continue;
        };
        for object in list.items {
            let value = serde_json::to_value(&object).unwrap_or_default();
            let name = object.metadata.name.unwrap_or_default();
            let conditions = value
                .pointer("/status/conditions")
                .and_then(serde_json::Value::as_array)
                .cloned()
                .unwrap_or_default();
            if conditions.is_empty() {
                let _ = writeln!(out, "  {kind}/{name}: no conditions");
            }
            for c in conditions {
                let text = |k: &str| c.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_owned();
                let _ = writeln!(
                    out,
                    "  {kind}/{name}: {}={} {}: {}",
                    text("type"),
                    text("status"),
                    text("reason"),
                    text("message")
                );
            }
        }
    }
    out
}

/// `kind` with every `${variable}` in its strings replaced.
fn substitute(kind: &StepKind, bindings: &Bindings) -> Result<StepKind, String> {
    let mut value = serde_json::to_value(kind).expect("steps serialise");
    bindings
        .substitute_json(&mut value)
        .map_err(|e| e.to_string())?;
    serde_json::from_value(value).map_err(|e| format!("after substitution: {e}"))
}

#[cfg(test)]
mod tests;
