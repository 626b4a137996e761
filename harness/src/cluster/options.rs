//! How to start the local plane: where it runs, what it runs, and for how long it waits.

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::deps::{Assets, Binaries};
use crate::node;

/// How to start the plane.
#[derive(Clone, Debug)]
pub struct PlaneOptions {
    /// Run directory: PKI, kubeconfig, etcd data, logs, pidfile, `plane.json`.
    pub run_dir: PathBuf,
    /// The binaries.
    pub binaries: Binaries,
    /// CRDs and kwok stages.
    pub assets: Assets,
    /// Start ESO (its CRDs are applied either way).
    pub eso: bool,
    /// Extra environment for ESO: `HTTPS_PROXY`, `NO_PROXY`, `SSL_CERT_FILE`. `NO_PROXY` always
    /// gains `127.0.0.1,localhost` so ESO reaches the API server directly.
    pub eso_env: Vec<(OsString, OsString)>,
    /// Extra flags for ESO after the plane's own, e.g. `--client-qps=500`.
    pub eso_args: Vec<OsString>,
    /// Deadline for each component to become ready.
    pub component_timeout: Duration,
    /// SIGTERM → SIGKILL grace when stopping.
    pub grace: Duration,
    /// `--advertise-address` for kube-apiserver; needed only where there is no default route.
    pub advertise_address: Option<IpAddr>,
    /// The node pods run on.
    pub node: node::Node,
}

impl PlaneOptions {
    /// Defaults: ESO on, 90 s per component, 10 s grace.
    pub fn new(run_dir: impl Into<PathBuf>, binaries: Binaries, assets: Assets) -> Self {
        Self {
            run_dir: run_dir.into(),
            binaries,
            assets,
            eso: true,
            eso_env: Vec::new(),
            eso_args: Vec::new(),
            component_timeout: Duration::from_secs(90),
            grace: Duration::from_secs(10),
            advertise_address: None,
            node: node::Node::Kwok,
        }
    }
}
