//! `measureRotations`: rotates a vault secret again and again and times each hop a rotation
//! travels: the vault write, ESO's next `GetSecret` of it (the fake's audit log), the synced
//! Secret's change and, with a workload, Reloader's patch of it and its new pods Ready (both
//! from Kubernetes watches, timed as they arrive). The step fails when a rotation does not
//! finish in time; otherwise it reports p50 / p95 / max per hop and end to end as figures.
//!
//! It rotates with the steps that do the same one at a time ([`SetVaultSecret`] and
//! [`ForceSync`]), so a measured rotation is exactly a scenario's rotation.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::runtime::watcher;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::force_sync::ForceSync;
use super::kube_util::api_for;
use super::set_vault_secret::SetVaultSecret;
use super::{References, Step, StepContext, StepError, StepOutcome};
use crate::event::OutputStream;
use crate::k8s::wait::deployment_rolled_out;

/// Rotates `secret` `rotations` times, one after the other, each once the last has gone all
/// the way through, and reports how long each hop took.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MeasureRotations {
    /// The vault; the scenario's first vault when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<String>,
    /// The vault secret to rotate (each rotation sets a new value).
    pub secret: String,
    /// The ExternalSecret that syncs it; its target Secret is watched.
    pub external_secret: String,
    /// The Deployment Reloader restarts when the Secret changes; without it a rotation ends
    /// when the Secret changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// Namespace of the ExternalSecret and the Deployment; the scenario's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// How many rotations (default 20).
    #[serde(default = "default_rotations")]
    pub rotations: u32,
    /// Annotate the ExternalSecret with `force-sync` after each write (default true); false
    /// leaves the pickup to its `refreshInterval`.
    #[serde(default = "default_force_sync")]
    pub force_sync: bool,
    /// ESO's API version (default `external-secrets.io/v1`).
    #[serde(default = "default_api_version")]
    pub api_version: String,
}

fn default_rotations() -> u32 {
    20
}

fn default_force_sync() -> bool {
    true
}

fn default_api_version() -> String {
    "external-secrets.io/v1".into()
}

/// The hops, in the order a rotation travels them.
const HOPS: [&str; 4] = [
    "vault write → ESO GetSecret",
    "GetSecret → Secret updated",
    "Secret updated → workload patched",
    "patched → new pods Ready",
];

/// When each point of one rotation was seen; `None` until it is.
#[derive(Clone, Copy, Debug, Default)]
struct Rotation {
    read: Option<Instant>,
    synced: Option<Instant>,
    patched: Option<Instant>,
    ready: Option<Instant>,
}

/// Objects as a watch delivered them, with the moment each arrived.
type Seen<K> = Arc<Mutex<Vec<(Instant, K)>>>;

/// Watches one object by name for as long as it lives; the task ends with it.
struct Watch<K> {
    seen: Seen<K>,
    task: tokio::task::JoinHandle<()>,
}

impl<K> Watch<K>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + 'static,
{
    fn start(api: Api<K>, name: &str) -> Self {
        let seen: Seen<K> = Arc::default();
        let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
        let into = Arc::clone(&seen);
        let task = tokio::spawn(async move {
            let mut events = std::pin::pin!(watcher(api, config));
            while let Some(event) = events.next().await {
                let Ok(watcher::Event::Apply(object) | watcher::Event::InitApply(object)) = event
                else {
                    continue;
                };
                lock(&into).push((Instant::now(), object));
            }
        });
        Self { seen, task }
    }

    /// The first object that arrived after `since` and passes `test`, and when.
    fn first_after(&self, since: Instant, test: impl Fn(&K) -> bool) -> Option<(Instant, K)> {
        lock(&self.seen)
            .iter()
            .find(|(at, object)| *at >= since && test(object))
            .cloned()
    }

    /// The newest object seen.
    fn latest(&self) -> Option<K> {
        lock(&self.seen).last().map(|(_, object)| object.clone())
    }
}

impl<K> Drop for Watch<K> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What one measurement watches.
struct Watched<'a> {
    vault: String,
    secret: &'a str,
    secrets: Watch<Secret>,
    deployment: Option<Watch<Deployment>>,
}

/// The Secret's data and the Deployment's generation before a rotation.
struct Before {
    data: Option<std::collections::BTreeMap<String, k8s_openapi::ByteString>>,
    generation: i64,
}

impl Watched<'_> {
    fn before(&self) -> Before {
        Before {
            data: self.secrets.latest().and_then(|s| s.data),
            generation: self
                .deployment
                .as_ref()
                .and_then(Watch::latest)
                .and_then(|d| d.metadata.generation)
                .unwrap_or(0),
        }
    }

    /// Notes what has happened since `written`; true once the rotation went all the way.
    fn look(
        &self,
        cx: &StepContext<'_>,
        rotation: &mut Rotation,
        mark: u64,
        written: Instant,
        before: &Before,
    ) -> bool {
        if rotation.read.is_none() {
            let read = cx
                .bench
                .akv()
                .state()
                .audit()
                .since(mark)
                .iter()
                .any(|e| e.status == 200 && e.is(&self.vault, "GetSecret", Some(self.secret)));
            rotation.read = read.then(Instant::now);
        }
        rotation.synced = rotation.synced.or_else(|| {
            self.secrets
                .first_after(written, |s| s.data != before.data)
                .map(|(at, _)| at)
        });
        let Some(watch) = &self.deployment else {
            return rotation.read.is_some() && rotation.synced.is_some();
        };
        let changed = |d: &Deployment| d.metadata.generation > Some(before.generation);
        rotation.patched = rotation
            .patched
            .or_else(|| watch.first_after(written, changed).map(|(at, _)| at));
        rotation.ready = rotation.ready.or_else(|| {
            watch
                .first_after(written, |d| changed(d) && deployment_rolled_out(d))
                .map(|(at, _)| at)
        });
        rotation.read.is_some() && rotation.ready.is_some()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How often the step looks at the audit log and the watches: the figures' resolution.
const LOOK: Duration = Duration::from_millis(2);

impl Step for MeasureRotations {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        if self.rotations == 0 {
            return Err(StepError::Invalid(
                "measureRotations needs rotations ≥ 1".into(),
            ));
        }
        let client = cx.kube()?;
        let namespace = self
            .namespace
            .clone()
            .unwrap_or_else(|| cx.namespace.clone());
        let target = self.target_secret(cx, &client, &namespace).await?;
        let watched = Watched {
            vault: cx.vault(self.vault.as_deref())?.spec().name.clone(),
            secret: &self.secret,
            secrets: Watch::start(Api::namespaced(client.clone(), &namespace), &target),
            deployment: self
                .deployment
                .as_deref()
                .map(|name| Watch::start(Api::namespaced(client.clone(), &namespace), name)),
        };
        // A rotation's "before" is what the watches hold, so they must hold it first.
        while watched.secrets.latest().is_none()
            || watched
                .deployment
                .as_ref()
                .is_some_and(|d| d.latest().is_none())
        {
            if cx.time_left() < LOOK {
                return Ok(StepOutcome::failed(format!(
                    "Secret {target} or the Deployment does not exist in {namespace}"
                )));
            }
            tokio::time::sleep(LOOK).await;
        }
        let mut done = Vec::new();
        for n in 1..=self.rotations {
            let before = watched.before();
            let mark = cx.bench.akv().state().audit().end();
            let written = Instant::now();
            self.rotate(cx, n, &namespace).await?;
            let mut rotation = Rotation::default();
            while !watched.look(cx, &mut rotation, mark, written, &before) {
                if cx.time_left() < LOOK {
                    return Ok(StepOutcome::failed(format!(
                        "rotation {n} of {} did not finish: {} ({} finished before it)",
                        self.rotations,
                        rotation.missing(watched.deployment.is_some()),
                        done.len()
                    )));
                }
                tokio::time::sleep(LOOK).await;
            }
            done.push((written, rotation));
        }
        cx.output(
            OutputStream::Figures,
            self.table(&done, watched.deployment.is_some()),
        );
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        let how = if self.force_sync {
            "force-sync"
        } else {
            "refreshInterval"
        };
        format!(
            "measure {} rotations of {} through ExternalSecret {} ({how})",
            self.rotations, self.secret, self.external_secret
        )
    }

    fn needs_cluster(&self) -> bool {
        true
    }

    fn references(&self) -> References<'_> {
        References {
            vault: self.vault.as_deref(),
            ..References::default()
        }
    }
}

impl Rotation {
    /// What was not seen, for a failure.
    fn missing(&self, workload: bool) -> String {
        let mut missing = Vec::new();
        if self.read.is_none() {
            missing.push("no GetSecret of the new version");
        }
        if self.synced.is_none() {
            missing.push("the Secret did not change");
        }
        if workload && self.patched.is_none() {
            missing.push("the Deployment was not patched");
        }
        if workload && self.ready.is_none() {
            missing.push("its new pods were not Ready");
        }
        missing.join(", ")
    }

    /// Each hop's duration, and the whole rotation's; `None` where a point is missing or
    /// came out of order (ESO may write the Secret before the audit poll saw the read).
    fn hops(&self, written: Instant) -> (Vec<Option<Duration>>, Option<Duration>) {
        let points = [
            Some(written),
            self.read,
            self.synced,
            self.patched,
            self.ready,
        ];
        let hops = points
            .windows(2)
            .map(|pair| Some(pair[1]?.saturating_duration_since(pair[0]?)))
            .collect();
        let end = self.ready.or(self.synced).map(|end| end - written);
        (hops, end)
    }
}

impl MeasureRotations {
    /// One rotation, as `setVaultSecret` (and `forceSync`) make it.
    async fn rotate(
        &self,
        cx: &mut StepContext<'_>,
        n: u32,
        namespace: &str,
    ) -> Result<(), StepError> {
        SetVaultSecret {
            vault: self.vault.clone(),
            name: self.secret.clone(),
            value: format!("rotation-{n}-{}", uuid::Uuid::new_v4().simple()),
            content_type: None,
            enabled: None,
        }
        .run(cx)
        .await?;
        if self.force_sync {
            ForceSync {
                name: self.external_secret.clone(),
                namespace: Some(namespace.to_owned()),
                api_version: self.api_version.clone(),
            }
            .run(cx)
            .await?;
        }
        Ok(())
    }

    /// The ExternalSecret's `spec.target.name`, or its own name (ESO's default).
    async fn target_secret(
        &self,
        cx: &StepContext<'_>,
        client: &kube::Client,
        namespace: &str,
    ) -> Result<String, StepError> {
        let api = api_for(
            client,
            &self.api_version,
            "ExternalSecret",
            Some(namespace),
            &cx.namespace,
        )
        .await?;
        let external = api.get(&self.external_secret).await.map_err(|e| {
            StepError::kube(format!("read ExternalSecret {}", self.external_secret), e)
        })?;
        Ok(external.data["spec"]["target"]["name"]
            .as_str()
            .unwrap_or(&self.external_secret)
            .to_owned())
    }

    /// The figures: p50 / p95 / max per hop and end to end, in milliseconds.
    fn table(&self, done: &[(Instant, Rotation)], workload: bool) -> String {
        let hops = if workload { &HOPS[..] } else { &HOPS[..2] };
        let mut columns: Vec<Vec<Duration>> = vec![Vec::new(); hops.len()];
        let mut ends = Vec::new();
        for (written, rotation) in done {
            let (each, end) = rotation.hops(*written);
            for (column, hop) in columns.iter_mut().zip(each) {
                column.extend(hop);
            }
            ends.extend(end);
        }
        let how = if self.force_sync {
            "force-sync"
        } else {
            "refreshInterval"
        };
        let mut text = format!(
            "{} rotations of {} ({how}), milliseconds\n{:<36} {:>8} {:>8} {:>8}\n",
            done.len(),
            self.secret,
            "hop",
            "p50",
            "p95",
            "max"
        );
        for (name, column) in hops.iter().zip(columns).chain([(&"end to end", ends)]) {
            text.push_str(&row(name, column));
        }
        text
    }
}

/// `name  p50  p95  max` of `samples`, nearest-rank percentiles.
fn row(name: &str, mut samples: Vec<Duration>) -> String {
    if samples.is_empty() {
        return format!("{name:<36} {:>8} {:>8} {:>8}\n", "-", "-", "-");
    }
    samples.sort();
    let rank = |p: usize| samples[(samples.len() * p).div_ceil(100).max(1) - 1];
    let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
    format!(
        "{name:<36} {:>8} {:>8} {:>8}\n",
        ms(rank(50)),
        ms(rank(95)),
        ms(samples[samples.len() - 1])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hops_run_between_the_points_seen_and_a_failure_names_the_missing_ones() {
        let written = Instant::now();
        let ms = Duration::from_millis;
        let rotation = Rotation {
            read: Some(written + ms(20)),
            synced: Some(written + ms(30)),
            patched: Some(written + ms(100)),
            ready: None,
        };
        let (hops, end) = rotation.hops(written);
        assert_eq!(hops, [Some(ms(20)), Some(ms(10)), Some(ms(70)), None]);
        assert_eq!(end, Some(ms(30)));
        assert_eq!(rotation.missing(true), "its new pods were not Ready");
        assert_eq!(rotation.missing(false), "");
        assert_eq!(
            Rotation::default().missing(false),
            "no GetSecret of the new version, the Secret did not change"
        );
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<Duration> = (1..=20).map(Duration::from_millis).collect();
        assert_eq!(
            row("hop", samples),
            format!("{:<36} {:>8} {:>8} {:>8}\n", "hop", "10.0", "19.0", "20.0")
        );
        assert_eq!(
            row("hop", vec![Duration::from_millis(7)]),
            format!("{:<36} {:>8} {:>8} {:>8}\n", "hop", "7.0", "7.0", "7.0")
        );
    }
}
