//! Kubernetes clusters the harness can drive. [`Cluster`] is what scenarios see; [`LocalPlane`]
//! is the built-in backend: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
//! kwok as host processes, plus ESO and (when supplied) Reloader.

mod local;
pub mod pki;
pub mod ports;
pub mod state;

use std::future::Future;
use std::path::Path;

use kube::api::DynamicObject;

use crate::k8s::ApplyError;

pub use local::{ComponentTiming, LocalPlane, NODE_NAME, PlaneError, PlaneOptions, ReloaderStatus};
pub use state::PlaneState;

/// A cluster the harness can use.
pub trait Cluster {
    /// A kubeconfig file for this cluster (admin).
    fn kubeconfig(&self) -> &Path;

    /// A client for this cluster (cheap to clone).
    fn client(&self) -> kube::Client;

    /// Server-side applies every document of `yaml` with the field manager `harness`.
    fn apply(
        &self,
        yaml: &str,
    ) -> impl Future<Output = Result<Vec<DynamicObject>, ApplyError>> + Send;

    /// Stops the cluster and everything the harness started for it.
    fn stop(self) -> impl Future<Output = ()> + Send;
}
