//! Kubernetes clusters the harness can drive. [`Cluster`] is all the runner and the steps see
//! (through [`crate::runner::ClusterAccess::of`]); two backends implement it:
//!
//! - [`LocalPlane`]: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
//!   as host processes, plus ESO, started and stopped by the run.
//! - [`ExistingCluster`]: a cluster the run neither starts nor stops: any kubeconfig
//!   (`--kubeconfig`, ESO installed by the user) or a plane `harness up` keeps (`--reuse`).
//!
//! A further backend (kind, say, where Docker exists) is one file: a type with a constructor
//! that brings the cluster up and an `impl Cluster`, plus a flag in `cli/run.rs` choosing it.

mod components;
mod eso;
mod existing;
mod local;
mod options;
pub mod pki;
pub mod ports;
pub mod state;

use std::future::Future;
use std::path::Path;

use kube::api::DynamicObject;

use crate::k8s::ApplyError;
use crate::reloader::ReloaderLauncher;

pub use eso::EsoControl;
pub use existing::{ExistingCluster, ExistingError};
pub use local::{ComponentTiming, LocalPlane, NODE_NAME, PlaneError, apply_crds, upstream_images};
pub use options::PlaneOptions;
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

    /// The service-account issuer and, when it can be read, its JWKS, so fake Entra ID
    /// trusts the cluster's tokens (workload identity); `None` when the cluster has none.
    fn service_account_issuer(
        &self,
    ) -> impl Future<Output = Option<(String, Option<serde_json::Value>)>> + Send;

    /// The folder where the harness's supervisor writes ESO's log (`<name>.{out,err}.log`),
    /// or why this cluster has none (failure dumps say it).
    fn component_logs(&self) -> Result<&Path, &str>;

    /// How the run starts each scenario's own Reloader on this cluster, or why it does not
    /// (scenarios then meet the Reloader the cluster runs, if any).
    fn reloaders(&self) -> Result<ReloaderLauncher, String>;

    /// A handle to stop and start ESO mid-run, or why the harness cannot (it did not start
    /// this cluster's ESO).
    fn eso_control(&self) -> Result<EsoControl, String>;

    /// Why pods on this cluster do not really run (kwok), or `Ok` if they do: steps that
    /// read an app's log or files are skipped where they cannot mean anything.
    fn runs_pods(&self) -> Result<(), String>;

    /// Stops the cluster and everything the harness started for it; a no-op for a cluster
    /// the harness did not start.
    fn stop(self) -> impl Future<Output = ()> + Send;
}
