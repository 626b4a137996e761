//! `expectRollout`: a workload (Deployment, StatefulSet, DaemonSet, or the Jobs a CronJob
//! gets) was restarted exactly N times since a mark, its new pods are Ready, and the listed
//! other workloads were not restarted at all. This is what Stakater Reloader does to a
//! workload when a Secret it watches changes: one new pod-template revision (for a CronJob, one
//! new Job). The step reports what caused the restart: Reloader's `Reloaded` events for the
//! workload and the mark it wrote into the pod template; `strategy` and `secret` assert them.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use k8s_openapi::api::core::v1::{Event, Secret};
use kube::api::{Api, ListParams};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Step, StepContext, StepError, StepOutcome};
use crate::duration::DurationSpec;
use crate::event::OutputStream;
use crate::k8s::workload::{self, WorkloadKind, WorkloadState};
use crate::reloader::marks::{Marks, secret_hash};

/// Polls until the workload has rolled out exactly `restarts` new revisions since
/// `sinceRevision` with every new pod Ready, then checks that the count holds for `hold`
/// and that every `untouched` workload is still at its first revision.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectRollout {
    /// The workload's kind (default `Deployment`).
    #[serde(default, skip_serializing_if = "is_deployment")]
    pub kind: WorkloadKind,
    /// The workload.
    pub name: String,
    /// Namespace; the scenario's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Restarts wanted since the mark (new pod-template revisions; for a CronJob, Jobs
    /// created from it by hand or by Reloader); 0 asserts none.
    pub restarts: u64,
    /// The mark: the revision to count from (default 1, the workload's creation).
    #[serde(default = "first_revision")]
    pub since_revision: u64,
    /// Workloads in the same namespace that must still be at revision 1: names of the same
    /// kind, or `Kind/name`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub untouched: Vec<String>,
    /// Once the count is reached, how long it must stay there (default `3s`): a restart
    /// count is only "exactly N" if no further restart follows.
    #[serde(default = "default_hold")]
    pub hold: DurationSpec,
    /// The Reloader strategy whose mark the pod template must carry (and not the other's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<ReloadStrategy>,
    /// With `strategy`: the mark names this Secret and holds the hash Reloader computes over
    /// its current data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// Reloader's `--reload-strategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ReloadStrategy {
    /// `env-vars` (the default): a `STAKATER_<NAME>_SECRET` env var.
    EnvVars,
    /// `annotations`: the `reloader.stakater.com/last-reloaded-from` pod-template annotation.
    Annotations,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference.
fn is_deployment(kind: &WorkloadKind) -> bool {
    *kind == WorkloadKind::Deployment
}

fn first_revision() -> u64 {
    1
}

fn default_hold() -> DurationSpec {
    DurationSpec("3s".into())
}

/// What the step sees at one look.
struct Look {
    state: WorkloadState,
    touched: Vec<String>,
}

impl ExpectRollout {
    fn shown(&self, namespace: &str) -> String {
        format!("{} {namespace}/{}", self.kind, self.name)
    }

    async fn look(&self, client: &kube::Client, namespace: &str) -> Result<Look, StepError> {
        let get = |kind: WorkloadKind, name: String| async move {
            workload::look(client, kind, namespace, &name)
                .await
                .map_err(|e| StepError::kube(format!("get {kind} {namespace}/{name}"), e))?
                .ok_or_else(|| {
                    StepError::Invalid(format!("{kind} {namespace}/{name} does not exist"))
                })
        };
        let state = get(self.kind, self.name.clone()).await?;
        let mut touched = Vec::new();
        for other in &self.untouched {
            let (kind, name) = match other.split_once('/') {
                Some((kind, name)) => (kind.parse().map_err(StepError::Invalid)?, name),
                None => (self.kind, other.as_str()),
            };
            match get(kind, name.to_owned()).await?.revision {
                Some(1) | None => {}
                Some(n) => touched.push(format!("{kind} {name} is at revision {n}, wanted 1")),
            }
        }
        Ok(Look { state, touched })
    }

    fn wanted(&self) -> u64 {
        self.since_revision + self.restarts
    }

    /// Why `look` does not show the wanted state, if it does not.
    fn problem(&self, look: &Look) -> Option<String> {
        let wanted = self.wanted();
        let mut out = Vec::new();
        match look.state.revision {
            Some(r) if r == wanted => {}
            Some(r) if r >= self.since_revision => out.push(format!(
                "{} restarts since revision {}, wanted {}",
                r - self.since_revision,
                self.since_revision,
                self.restarts
            )),
            Some(r) => out.push(format!(
                "at revision {r}, before the mark {}",
                self.since_revision
            )),
            None => out.push("no revision yet".into()),
        }
        if let Err(e) = &look.state.rollout {
            out.push(e.clone());
        }
        out.extend(look.touched.iter().cloned());
        (!out.is_empty()).then(|| out.join("; "))
    }

    /// Whether the pod template carries the wanted strategy's mark for the wanted Secret.
    async fn check_marks(
        &self,
        client: &kube::Client,
        namespace: &str,
        marks: &Marks,
    ) -> Result<Option<String>, StepError> {
        let Some(strategy) = self.strategy else {
            return Ok(None);
        };
        let env_hash = self.secret.as_deref().and_then(|s| marks.env_hash(s));
        let source = marks.annotation_source();
        let (has_own, has_other) = match strategy {
            ReloadStrategy::EnvVars => (!marks.env_vars.is_empty(), marks.annotation.is_some()),
            ReloadStrategy::Annotations => (marks.annotation.is_some(), !marks.env_vars.is_empty()),
        };
        if !has_own || has_other {
            return Ok(Some(format!(
                "wanted the {strategy:?} strategy's mark only, the pod template has: {}",
                marks.describe()
            )));
        }
        let Some(secret) = &self.secret else {
            return Ok(None);
        };
        let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
        let data: BTreeMap<_, _> = secrets
            .get(secret)
            .await
            .map_err(|e| StepError::kube(format!("get Secret {namespace}/{secret}"), e))?
            .data
            .unwrap_or_default();
        let hash = secret_hash(&data);
        let recorded = match strategy {
            ReloadStrategy::EnvVars => env_hash.map(str::to_owned),
            ReloadStrategy::Annotations => source
                .filter(|(kind, name, _)| kind == "SECRET" && name == secret)
                .map(|(_, _, hash)| hash),
        };
        Ok(match recorded {
            Some(recorded) if recorded == hash => None,
            Some(recorded) => Some(format!(
                "the mark for Secret {secret} holds {recorded}, its data hashes to {hash}; \
                 the pod template has: {}",
                marks.describe()
            )),
            None => Some(format!(
                "no mark for Secret {secret}; the pod template has: {}",
                marks.describe()
            )),
        })
    }

    /// Reloader's events about the workload, oldest first.
    async fn reload_events(&self, client: &kube::Client, namespace: &str) -> Vec<String> {
        let api: Api<Event> = Api::namespaced(client.clone(), namespace);
        let Ok(list) = api.list(&ListParams::default()).await else {
            return Vec::new();
        };
        list.items
            .into_iter()
            .filter(|e| {
                e.involved_object.name.as_deref() == Some(self.name.as_str())
                    && matches!(e.reason.as_deref(), Some("Reloaded" | "ReloadFail"))
            })
            .map(|e| {
                format!(
                    "event {} {} (x{}): {}",
                    e.type_.unwrap_or_default(),
                    e.reason.unwrap_or_default(),
                    e.count.unwrap_or(1),
                    e.message.unwrap_or_default()
                )
            })
            .collect()
    }
}

impl Step for ExpectRollout {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let namespace = self
            .namespace
            .clone()
            .unwrap_or_else(|| cx.namespace.clone());
        let client = cx.kube()?;
        let shown = self.shown(&namespace);
        // Phase 1: until the wanted revision is rolled out and Ready (and marked as wanted).
        let looked = cx
            .poll(async || {
                let look = self.look(&client, &namespace).await?;
                // Past the wanted revision, or another workload restarted: waiting cannot help.
                if look.state.revision.is_some_and(|r| r > self.wanted())
                    || !look.touched.is_empty()
                {
                    return Ok(ControlFlow::Break(Err(self
                        .problem(&look)
                        .unwrap_or_default())));
                }
                let marks = look
                    .state
                    .template
                    .as_ref()
                    .map(Marks::of)
                    .unwrap_or_default();
                let problem = match self.problem(&look) {
                    None => self.check_marks(&client, &namespace, &marks).await?,
                    problem => problem,
                };
                Ok(match problem {
                    None => ControlFlow::Break(Ok(marks)),
                    Some(problem) => ControlFlow::Continue(problem),
                })
            })
            .await?;
        let marks = match looked {
            Ok(Ok(marks)) => marks,
            Ok(Err(problem)) | Err(problem) => {
                return Ok(StepOutcome::failed(format!("{shown}: {problem}")));
            }
        };
        let mut causes = self.reload_events(&client, &namespace).await;
        causes.push(format!("pod template: {}", marks.describe()));
        cx.output(
            OutputStream::Log,
            format!(
                "{shown} at revision {}:\n  {}",
                self.wanted(),
                causes.join("\n  ")
            ),
        );
        // Phase 2: the count holds (no further restart, nothing else touched).
        let until = tokio::time::Instant::now() + self.hold.get();
        while tokio::time::Instant::now() < until {
            tokio::time::sleep(cx.poll_interval()).await;
            let look = self.look(&client, &namespace).await?;
            let moved = look.state.revision.is_some_and(|r| r != self.wanted());
            if moved || !look.touched.is_empty() {
                return Ok(StepOutcome::failed(format!(
                    "{shown}: after reaching {} restarts: {}",
                    self.restarts,
                    self.problem(&look).unwrap_or_default()
                )));
            }
        }
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        let untouched = if self.untouched.is_empty() {
            String::new()
        } else {
            format!(", {} untouched", self.untouched.join(", "))
        };
        let strategy = self
            .strategy
            .map(|s| format!(" by {s:?}"))
            .unwrap_or_default();
        format!(
            "expect {} {} restarted {} time(s){strategy}{untouched}",
            self.kind, self.name, self.restarts
        )
    }

    fn needs_cluster(&self) -> bool {
        true
    }
}
