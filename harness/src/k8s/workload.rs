//! The workloads Reloader restarts, read the same way whatever their kind: how many times the
//! pod template changed (the revision), whether the current one is rolled out, and the pod
//! template itself.
//!
//! - Deployment: `deployment.kubernetes.io/revision`; rolled out when the Deployment says so
//!   and the pods of that revision's ReplicaSet are Ready.
//! - StatefulSet, DaemonSet: the highest `revision` of the ControllerRevisions they own (one
//!   per distinct template); rolled out when the status shows every replica updated and Ready.
//! - CronJob: Reloader does not patch it but creates a Job from its template
//!   (`callbacks.CreateJobFromCronjob`: annotation `cronjob.kubernetes.io/instantiate: manual`,
//!   owned by the CronJob), so its revision is 1 plus the number of such Jobs, and its
//!   template is the newest such Job's.

use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use kube::api::{Api, ListParams};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::wait::{deployment_rolled_out, pod_ready};

const DEPLOYMENT_REVISION: &str = "deployment.kubernetes.io/revision";
const INSTANTIATE: &str = "cronjob.kubernetes.io/instantiate";

/// A kind of workload Reloader can restart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum WorkloadKind {
    /// `apps/v1` Deployment.
    #[default]
    Deployment,
    /// `apps/v1` StatefulSet.
    StatefulSet,
    /// `apps/v1` DaemonSet.
    DaemonSet,
    /// `batch/v1` CronJob.
    CronJob,
}

impl std::fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Deployment => "Deployment",
            Self::StatefulSet => "StatefulSet",
            Self::DaemonSet => "DaemonSet",
            Self::CronJob => "CronJob",
        })
    }
}

impl std::str::FromStr for WorkloadKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        [
            Self::Deployment,
            Self::StatefulSet,
            Self::DaemonSet,
            Self::CronJob,
        ]
        .into_iter()
        .find(|k| k.to_string() == text)
        .ok_or_else(|| {
            format!("`{text}` is not a workload kind (Deployment, StatefulSet, DaemonSet, CronJob)")
        })
    }
}

/// One look at a workload.
#[derive(Clone, Debug)]
pub struct WorkloadState {
    /// Template changes so far, 1 being its creation; `None` before the first is recorded.
    pub revision: Option<u64>,
    /// Why the current revision is not rolled out yet, if it is not.
    pub rollout: Result<(), String>,
    /// The pod template of the current revision.
    pub template: Option<PodTemplateSpec>,
}

/// Reads `kind`/`name`; `None` if it does not exist.
pub async fn look(
    client: &kube::Client,
    kind: WorkloadKind,
    namespace: &str,
    name: &str,
) -> Result<Option<WorkloadState>, kube::Error> {
    match kind {
        WorkloadKind::Deployment => deployment(client, namespace, name).await,
        WorkloadKind::StatefulSet => stateful_set(client, namespace, name).await,
        WorkloadKind::DaemonSet => daemon_set(client, namespace, name).await,
        WorkloadKind::CronJob => cron_job(client, namespace, name).await,
    }
}

async fn stateful_set(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Option<WorkloadState>, kube::Error> {
    let api: Api<StatefulSet> = Api::namespaced(client.clone(), namespace);
    let Some(set) = api.get_opt(name).await? else {
        return Ok(None);
    };
    let revision = controller_revision(client, namespace, set.metadata.uid.as_deref()).await?;
    let want = set.spec.replicas.unwrap_or(1);
    let rollout = match &set.status {
        Some(s)
            if s.observed_generation.unwrap_or(0) >= set.metadata.generation.unwrap_or(1)
                && s.updated_replicas.unwrap_or(0) == want
                && s.ready_replicas.unwrap_or(0) == want
                && s.current_revision == s.update_revision =>
        {
            Ok(())
        }
        Some(s) => Err(format!(
            "{} of {want} replicas updated, {} Ready",
            s.updated_replicas.unwrap_or(0),
            s.ready_replicas.unwrap_or(0)
        )),
        None => Err("no status yet".into()),
    };
    Ok(Some(WorkloadState {
        revision,
        rollout,
        template: Some(set.spec.template),
    }))
}

async fn daemon_set(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Option<WorkloadState>, kube::Error> {
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), namespace);
    let Some(set) = api.get_opt(name).await? else {
        return Ok(None);
    };
    let revision = controller_revision(client, namespace, set.metadata.uid.as_deref()).await?;
    let rollout = match &set.status {
        Some(s)
            if s.observed_generation.unwrap_or(0) >= set.metadata.generation.unwrap_or(1)
                && s.desired_number_scheduled > 0
                && s.updated_number_scheduled.unwrap_or(0) == s.desired_number_scheduled
                && s.number_ready == s.desired_number_scheduled =>
        {
            Ok(())
        }
        Some(s) => Err(format!(
            "{} of {} scheduled pods updated, {} Ready",
            s.updated_number_scheduled.unwrap_or(0),
            s.desired_number_scheduled,
            s.number_ready
        )),
        None => Err("no status yet".into()),
    };
    Ok(Some(WorkloadState {
        revision,
        rollout,
        template: Some(set.spec.template),
    }))
}

async fn cron_job(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Option<WorkloadState>, kube::Error> {
    let api: Api<CronJob> = Api::namespaced(client.clone(), namespace);
    let Some(cron) = api.get_opt(name).await? else {
        return Ok(None);
    };
    let uid = cron.metadata.uid.clone().unwrap_or_default();
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    let mut made: Vec<Job> = jobs
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|job| {
            owned_by(job.metadata.owner_references.as_deref(), &uid)
                && job
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(INSTANTIATE))
                    .is_some_and(|v| v == "manual")
        })
        .collect();
    made.sort_by_key(|job| job.metadata.creation_timestamp.clone());
    let template = made
        .last()
        .and_then(|job| job.spec.as_ref())
        .map(|spec| spec.template.clone())
        .or_else(|| cron.spec.job_template.spec.map(|s| s.template));
    Ok(Some(WorkloadState {
        revision: Some(1 + made.len() as u64),
        rollout: Ok(()),
        template,
    }))
}

fn owned_by(
    owners: Option<&[k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference]>,
    uid: &str,
) -> bool {
    owners.into_iter().flatten().any(|o| o.uid == uid)
}

async fn controller_revision(
    client: &kube::Client,
    namespace: &str,
    uid: Option<&str>,
) -> Result<Option<u64>, kube::Error> {
    let uid = uid.unwrap_or_default();
    let api: Api<ControllerRevision> = Api::namespaced(client.clone(), namespace);
    Ok(api
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .filter(|r| owned_by(r.metadata.owner_references.as_deref(), uid))
        .filter_map(|r| u64::try_from(r.revision?).ok())
        .max())
}

async fn deployment(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Option<WorkloadState>, kube::Error> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let Some(deployment) = api.get_opt(name).await? else {
        return Ok(None);
    };
    let revision = deployment
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DEPLOYMENT_REVISION))
        .and_then(|r| r.parse().ok());
    let rollout = match revision {
        Some(r) if deployment_rolled_out(&deployment) => {
            new_pods_ready(client, namespace, &deployment, r).await?
        }
        Some(_) => Err("rollout not complete".into()),
        None => Err("no revision yet".into()),
    };
    Ok(Some(WorkloadState {
        revision,
        rollout,
        template: Some(deployment.spec.template),
    }))
}

/// The pods of the ReplicaSet of `revision` exist and are all Ready.
async fn new_pods_ready(
    client: &kube::Client,
    namespace: &str,
    deployment: &Deployment,
    revision: u64,
) -> Result<Result<(), String>, kube::Error> {
    let uid = deployment.metadata.uid.clone().unwrap_or_default();
    let sets: Api<ReplicaSet> = Api::namespaced(client.clone(), namespace);
    let current = sets
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .find(|rs| {
            owned_by(rs.metadata.owner_references.as_deref(), &uid)
                && rs
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(DEPLOYMENT_REVISION))
                    .is_some_and(|r| r == &revision.to_string())
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
        .await?;
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
