//! A cluster the harness did not start: any kubeconfig (`harness run --kubeconfig`), or a plane
//! `harness up` keeps running (`harness run --reuse`, found through its `plane.json` as
//! `harness status` finds it). The harness never stops it.
//!
//! The contract for a kubeconfig cluster: ESO (and Reloader, if scenarios want one) is
//! installed by the user, and its controller reaches the run's fakes, i.e. runs with the
//! bench's `HTTPS_PROXY` and trusts its CA (`SSL_CERT_FILE`); `harness run` prints both, and
//! `--proxy-listen`/`--bench-dir` keep them the same from run to run. The harness cannot read
//! that ESO's logs, so failure dumps say so. On a kept plane the run starts each scenario's
//! Reloader itself, as on a plane of its own.

use std::path::{Path, PathBuf};

use kube::api::DynamicObject;

use super::{Cluster, EsoControl, PlaneState};
use crate::k8s::{self, ApplyError, ClientError};
use crate::reloader::ReloaderLauncher;

/// Why an existing cluster cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ExistingError {
    /// `--reuse` found no running plane.
    #[error("no plane is running in {0} (start one with `harness up`)")]
    NoPlane(PathBuf),
    /// `plane.json` could not be read.
    #[error("cannot read the plane state in {path}")]
    State {
        /// The run directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The kubeconfig gives no client.
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// A cluster someone else runs.
pub struct ExistingCluster {
    kubeconfig: PathBuf,
    client: kube::Client,
    /// The plane's log folder, when the harness's own supervisor wrote it.
    logs: Option<PathBuf>,
    /// A kept plane's: where scenario Reloaders come from.
    reloaders: Result<ReloaderLauncher, String>,
}

impl ExistingCluster {
    /// The current context of `kubeconfig`.
    pub async fn from_kubeconfig(kubeconfig: &Path) -> Result<Self, ExistingError> {
        Ok(Self {
            kubeconfig: kubeconfig.to_path_buf(),
            client: k8s::client_from_kubeconfig(kubeconfig).await?,
            logs: None,
            reloaders: Err("the cluster comes from --kubeconfig: scenarios meet the Reloader it runs (install it with the scenarios' flags)".into()),
        })
    }

    /// The plane `harness up` runs in `run_dir`.
    pub async fn from_plane(run_dir: &Path) -> Result<Self, ExistingError> {
        let state = PlaneState::read(run_dir)
            .map_err(|source| ExistingError::State {
                path: run_dir.to_path_buf(),
                source,
            })?
            .ok_or_else(|| ExistingError::NoPlane(run_dir.to_path_buf()))?;
        let reloaders = crate::deps::resolve(
            &crate::deps::DepsConfig::from_env(),
            crate::deps::Component::Reloader,
            &mut None,
        )
        .map_err(|e| e.to_string())
        .and_then(|found| {
            found.ok_or_else(|| "Reloader is not built; run `harness deps`".to_owned())
        })
        .and_then(|reloader| {
            ReloaderLauncher::new(
                reloader.path,
                &state.kubeconfig,
                &state.apiserver_url,
                run_dir.join("reloaders"),
            )
            .map_err(|e| e.to_string())
        });
        Ok(Self {
            client: k8s::client_from_kubeconfig(&state.kubeconfig).await?,
            kubeconfig: state.kubeconfig,
            logs: Some(run_dir.join("logs")),
            reloaders,
        })
    }

    /// GETs `path` from the API server, which serves the service-account issuer's discovery
    /// document and keys to authenticated clients on every conformant cluster.
    async fn get_json(&self, path: &str) -> Option<serde_json::Value> {
        let request = http::Request::get(path).body(Vec::new()).ok()?;
        self.client.request(request).await.ok()
    }
}

impl Cluster for ExistingCluster {
    fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    fn client(&self) -> kube::Client {
        self.client.clone()
    }

    async fn apply(&self, yaml: &str) -> Result<Vec<DynamicObject>, ApplyError> {
        k8s::apply_yaml(&self.client, yaml).await
    }

    async fn service_account_issuer(&self) -> Option<(String, Option<serde_json::Value>)> {
        let discovery = self.get_json("/.well-known/openid-configuration").await?;
        let issuer = discovery.get("issuer")?.as_str()?.to_owned();
        Some((issuer, self.get_json("/openid/v1/jwks").await))
    }

    fn component_logs(&self) -> Result<&Path, &str> {
        self.logs.as_deref().ok_or(
            "the cluster comes from --kubeconfig and the harness did not start its ESO; \
             read its logs with kubectl logs",
        )
    }

    fn reloaders(&self) -> Result<ReloaderLauncher, String> {
        self.reloaders.clone()
    }

    fn eso_control(&self) -> Result<EsoControl, String> {
        Err("the harness did not start this cluster's ESO (--kubeconfig or --reuse); stop and start it there".into())
    }

    fn runs_pods(&self) -> Result<(), String> {
        Ok(())
    }

    async fn stop(self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reuse_without_a_running_plane_says_how_to_start_one() {
        let dir = tempfile::tempdir().unwrap();
        let Err(error) = ExistingCluster::from_plane(dir.path()).await else {
            panic!("an empty folder is no plane");
        };
        assert!(matches!(error, ExistingError::NoPlane(_)));
        assert!(error.to_string().contains("start one with `harness up`"));
    }
}
