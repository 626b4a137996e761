//! `expectRollout`: a Deployment was restarted exactly N times since a mark (its revision,
//! `deployment.kubernetes.io/revision`; 1, its creation, by default), its new pods are Ready,
//! and the listed other Deployments were not restarted at all. This is what Stakater Reloader
//! does to a workload when a Secret it watches changes: one new pod-template revision.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Step, StepContext, StepError, StepOutcome};
use crate::k8s::wait::{deployment_rolled_out, pod_ready};
use crate::scenario::spec::DurationSpec;

const REVISION: &str = "deployment.kubernetes.io/revision";

/// Polls until the Deployment has rolled out exactly `restarts` new revisions since
/// `sinceRevision` with every new pod Ready, then checks that the count holds for `hold`
/// and that every `untouched` Deployment is still at its first revision.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectRollout {
    /// The Deployment.
    pub name: String,
    /// Namespace; the scenario's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Restarts wanted since the mark (new pod-template revisions); 0 asserts none.
    pub restarts: u64,
    /// The mark: the revision to count from (default 1, the Deployment's creation).
    #[serde(default = "first_revision")]
    pub since_revision: u64,
    /// Deployments in the same namespace that must still be at revision 1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub untouched: Vec<String>,
    /// Once the count is reached, how long it must stay there (default `3s`): a restart
    /// count is only "exactly N" if no further restart follows.
    #[serde(default = "default_hold")]
    pub hold: DurationSpec,
}

fn first_revision() -> u64 {
    1
}

fn default_hold() -> DurationSpec {
    DurationSpec("3s".into())
}

fn revision(deployment: &Deployment) -> Option<u64> {
    deployment
        .metadata
        .annotations
        .as_ref()?
        .get(REVISION)?
        .parse()
        .ok()
}

/// What the step sees at one look.
struct Look {
    revision: Option<u64>,
    rolled_out: bool,
    pods_ready: Result<(), String>,
    touched: Vec<String>,
}

impl ExpectRollout {
    async fn look(&self, client: &kube::Client, namespace: &str) -> Result<Look, StepError> {
        let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
        let get = |name: &str| {
            let deployments = deployments.clone();
            let name = name.to_owned();
            async move {
                deployments
                    .get_opt(&name)
                    .await
                    .map_err(|e| StepError::kube(format!("get Deployment {namespace}/{name}"), e))?
                    .ok_or_else(|| {
                        StepError::Invalid(format!("Deployment {namespace}/{name} does not exist"))
                    })
            }
        };
        let deployment = get(&self.name).await?;
        let mut touched = Vec::new();
        for other in &self.untouched {
            let other_deployment = get(other).await?;
            match revision(&other_deployment) {
                Some(1) | None => {}
                Some(n) => touched.push(format!("{other} is at revision {n}, wanted 1")),
            }
        }
        let revision = revision(&deployment);
        let pods_ready = match revision {
            Some(r) => {
                self.new_pods_ready(client, namespace, &deployment, r)
                    .await?
            }
            None => Err("no revision yet".into()),
        };
        Ok(Look {
            revision,
            rolled_out: deployment_rolled_out(&deployment),
            pods_ready,
            touched,
        })
    }

    /// The pods of the ReplicaSet of `revision` exist and are all Ready.
    async fn new_pods_ready(
        &self,
        client: &kube::Client,
        namespace: &str,
        deployment: &Deployment,
        revision: u64,
    ) -> Result<Result<(), String>, StepError> {
        let uid = deployment.metadata.uid.clone().unwrap_or_default();
        let sets: Api<ReplicaSet> = Api::namespaced(client.clone(), namespace);
        let list = sets
            .list(&ListParams::default())
            .await
            .map_err(|e| StepError::kube(format!("list ReplicaSets in {namespace}"), e))?;
        let current = list.items.into_iter().find(|rs| {
            let owned = rs
                .metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.uid == uid);
            let this_revision = rs
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(REVISION))
                .is_some_and(|r| r == &revision.to_string());
            owned && this_revision
        });
        let Some(hash) = current.as_ref().and_then(|rs| {
            rs.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("pod-template-hash"))
                .cloned()
        }) else {
            return Ok(Err(format!("no ReplicaSet of revision {revision} yet")));
        };
        let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
        let list = pods
            .list(&ListParams::default().labels(&format!("pod-template-hash={hash}")))
            .await
            .map_err(|e| StepError::kube(format!("list pods in {namespace}"), e))?;
        let want = deployment.spec.replicas.unwrap_or(1);
        let ready = list.items.iter().filter(|p| pod_ready(p)).count();
        if i32::try_from(ready).unwrap_or(i32::MAX) >= want {
            Ok(Ok(()))
        } else {
            Ok(Err(format!(
                "{ready} of {want} pods of revision {revision} Ready"
            )))
        }
    }

    fn wanted(&self) -> u64 {
        self.since_revision + self.restarts
    }

    /// Why `look` does not show the wanted state, if it does not.
    fn problem(&self, look: &Look) -> Option<String> {
        let wanted = self.wanted();
        let mut out = Vec::new();
        match look.revision {
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
        if !look.rolled_out {
            out.push("rollout not complete".into());
        }
        if let Err(e) = &look.pods_ready {
            out.push(e.clone());
        }
        out.extend(look.touched.iter().cloned());
        (!out.is_empty()).then(|| out.join("; "))
    }
}

impl Step for ExpectRollout {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let namespace = self
            .namespace
            .clone()
            .unwrap_or_else(|| cx.namespace.clone());
        let client = cx.kube()?;
        let shown = format!("Deployment {namespace}/{}", self.name);
        // Phase 1: until the wanted revision is rolled out and Ready.
        loop {
            let look = self.look(&client, &namespace).await?;
            if look.revision.is_some_and(|r| r > self.wanted()) || !look.touched.is_empty() {
                return Ok(StepOutcome::failed(format!(
                    "{shown}: {}",
                    self.problem(&look).unwrap_or_default()
                )));
            }
            match self.problem(&look) {
                None => break,
                Some(problem) if cx.time_left() < cx.poll_interval() => {
                    return Ok(StepOutcome::failed(format!("{shown}: {problem}")));
                }
                Some(_) => tokio::time::sleep(cx.poll_interval()).await,
            }
        }
        // Phase 2: the count holds (no further restart, nothing else touched).
        let until = tokio::time::Instant::now() + self.hold.get();
        while tokio::time::Instant::now() < until {
            tokio::time::sleep(cx.poll_interval()).await;
            let look = self.look(&client, &namespace).await?;
            let moved = look.revision.is_some_and(|r| r != self.wanted());
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
        format!(
            "expect Deployment {} restarted {} time(s){untouched}",
            self.name, self.restarts
        )
    }

    fn needs_cluster(&self) -> bool {
        true
    }
}
