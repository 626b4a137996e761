//! Waits: kube-runtime's `await_condition` under a timeout, and the named conditions the plane
//! and the tests use.

use std::fmt::Debug;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Resource;
use kube::api::Api;
use kube::runtime::wait::{Condition, await_condition};
use serde::de::DeserializeOwned;

/// A wait did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// The condition did not hold in time.
    #[error("{what} {name}: condition not met within {timeout:?}")]
    Timeout {
        /// The kind.
        what: &'static str,
        /// The object.
        name: String,
        /// The limit.
        timeout: Duration,
    },
    /// The watch failed.
    #[error("{what} {name}: watch failed: {source}")]
    Watch {
        /// The kind.
        what: &'static str,
        /// The object.
        name: String,
        /// The underlying error.
        #[source]
        source: kube::runtime::wait::Error,
    },
}

/// Watches `name` until `condition` holds, for at most `timeout`; returns the object then.
pub async fn wait_for<K>(
    api: Api<K>,
    name: &str,
    condition: impl Condition<K>,
    timeout: Duration,
) -> Result<Option<K>, WaitError>
where
    K: Clone + Debug + Send + DeserializeOwned + Resource + 'static,
{
    let what = std::any::type_name::<K>()
        .rsplit("::")
        .next()
        .unwrap_or("object");
    match tokio::time::timeout(timeout, await_condition(api, name, condition)).await {
        Ok(Ok(object)) => Ok(object),
        Ok(Err(source)) => Err(WaitError::Watch {
            what,
            name: name.to_owned(),
            source,
        }),
        Err(_) => Err(WaitError::Timeout {
            what,
            name: name.to_owned(),
            timeout,
        }),
    }
}

fn condition_true<'a>(
    conditions: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
    wanted: &str,
) -> bool {
    conditions
        .into_iter()
        .any(|(type_, status)| type_ == Some(wanted) && status == Some("True"))
}

/// The Node's `Ready` condition is `True`.
#[must_use]
pub fn node_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            condition_true(
                cs.iter()
                    .map(|c| (Some(c.type_.as_str()), Some(c.status.as_str()))),
                "Ready",
            )
        })
}

/// The Pod's `Ready` condition is `True`.
#[must_use]
pub fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            condition_true(
                cs.iter()
                    .map(|c| (Some(c.type_.as_str()), Some(c.status.as_str()))),
                "Ready",
            )
        })
}

/// The rollout of the Deployment's current generation is complete: observed, every replica
/// updated and available, none left over, `Progressing` with `NewReplicaSetAvailable`.
#[must_use]
pub fn deployment_rolled_out(deployment: &Deployment) -> bool {
    let Some(status) = &deployment.status else {
        return false;
    };
    let want = deployment.spec.replicas.unwrap_or(1);
    let observed =
        status.observed_generation.unwrap_or(0) >= deployment.metadata.generation.unwrap_or(1);
    let progressing = status.conditions.as_ref().is_some_and(|cs| {
        cs.iter().any(|c| {
            c.type_.as_deref() == Some("Progressing")
                && c.reason.as_deref() == Some("NewReplicaSetAvailable")
                && c.status.as_deref() == Some("True")
        })
    });
    observed
        && progressing
        && status.updated_replicas.unwrap_or(0) == want
        && status.available_replicas.unwrap_or(0) == want
        && status.replicas.unwrap_or(0) == want
}

/// [`node_ready`] as a watch condition.
#[must_use]
pub fn is_node_ready() -> impl Condition<Node> {
    |obj: Option<&Node>| obj.is_some_and(node_ready)
}

/// [`pod_ready`] as a watch condition.
#[must_use]
pub fn is_pod_ready() -> impl Condition<Pod> {
    |obj: Option<&Pod>| obj.is_some_and(pod_ready)
}

/// [`deployment_rolled_out`] as a watch condition.
#[must_use]
pub fn is_deployment_rolled_out() -> impl Condition<Deployment> {
    |obj: Option<&Deployment>| obj.is_some_and(deployment_rolled_out)
}
