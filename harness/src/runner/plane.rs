//! The local plane for a run against a bench: the one place that decides what ESO gets to
//! reach the fakes ([`Bench::eso_env`]: the routing proxy and the bench's CA), whether ESO runs
//! at all (a scenario asks for it), which node the pods get, and how pods reach the fakes.

use std::path::Path;
use std::time::Duration;

use super::ClusterAccess;
use crate::cluster::{LocalPlane, PlaneError, PlaneOptions};
use crate::deps::{Assets, Binaries, BuildError, DepsConfig, DepsError};
use crate::node::{Node, NodeKind, Unavailable};
use crate::proxy::{Proxy, ProxyError};
use crate::scenario::Scenario;
use crate::serve::Bench;

/// Why the plane for a bench did not start.
#[derive(Debug, thiserror::Error)]
pub enum BenchPlaneError {
    /// A control-plane program could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// ESO's CRDs or kwok's stages are missing.
    #[error(transparent)]
    Deps(#[from] DepsError),
    /// `--node real` where no real node can run.
    #[error("no real node here: {0}")]
    Node(#[from] Unavailable),
    /// A component did not start.
    #[error(transparent)]
    Plane(#[from] PlaneError),
    /// The routing proxy could not listen on the node's bridge.
    #[error("cannot serve the routing proxy on the node's bridge: {0}")]
    PodProxy(#[from] ProxyError),
}

/// Starts the local plane in `run_dir` for `scenarios` against `bench`; each component gets
/// `timeout` to become ready.
pub async fn start(
    bench: &Bench,
    scenarios: &[Scenario],
    run_dir: &Path,
    timeout: Duration,
    node: NodeKind,
) -> Result<LocalPlane, BenchPlaneError> {
    let config = DepsConfig::from_env();
    let binaries = Binaries::ensure(&config)?;
    let assets = Assets::locate(&config)?;
    let mut options = PlaneOptions::new(run_dir, binaries, assets);
    options.node = Node::choose(node, &config.node_cache())?;
    options.eso = scenarios.iter().any(|s| s.components.eso.enabled());
    options.eso_env = bench.eso_env();
    options.component_timeout = timeout;
    Ok(LocalPlane::start(options).await?)
}

/// How scenarios reach `plane`, and on a real node a routing proxy on its bridge address, so
/// pods reach the fakes under Azure's names (`${podProxy}`); the proxy lives as long as the
/// caller keeps it.
pub async fn access(
    bench: &Bench,
    plane: &LocalPlane,
) -> Result<(ClusterAccess, Option<Proxy>), BenchPlaneError> {
    let mut access = ClusterAccess::of(plane).await;
    let Some(gateway) = plane.node_gateway() else {
        return Ok((access, None));
    };
    let proxy = bench
        .proxy_on(std::net::SocketAddr::new(gateway, 0))
        .await?;
    access.pod_proxy = Some(proxy.url());
    Ok((access, Some(proxy)))
}
