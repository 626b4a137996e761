//! ESO and Reloader installed the way the seed articles install them: their real Helm charts,
//! with the real `helm` (built from `helm.sh/helm/v4` like every other program), as pods on the
//! real node.
//!
//! How the parts fit: [`chart`] prepares each chart as its release publishes it, from the
//! project's Go module; [`values`] says what the bench adds to the user's values (the proxy and
//! CA for ESO's controller, nothing else); [`Helm`] runs `helm upgrade --install … --wait` with
//! the user's values file unchanged, their inline values, then the bench's, and uninstalls;
//! [`Releases`] keeps what one owner installed, for upgrades with changed values and removal,
//! and uninstalls a release that failed to install, saying which images its pods could not
//! pull.

pub mod chart;
pub mod releases;
pub mod values;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;

pub use chart::{ChartKind, ChartSource};
pub use releases::{Releases, UpgradeError};

use crate::k8s;

/// A Helm install or uninstall failed.
#[derive(Debug, thiserror::Error)]
pub enum HelmError {
    /// The chart could not be prepared.
    #[error("chart {chart}: {reason}")]
    Chart {
        /// Which chart.
        chart: &'static str,
        /// Why.
        reason: String,
    },
    /// A values file could not be read or is not YAML.
    #[error("values file {path}: {reason}")]
    Values {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Helm refused or failed; its own words.
    #[error("helm {action} {release}{values}: {message}")]
    Helm {
        /// `install` or `uninstall`.
        action: &'static str,
        /// The release.
        release: String,
        /// ` (values from FILE)` when the user gave a file.
        values: String,
        /// Helm's `Error:` lines.
        message: String,
    },
    /// The bench's CA could not be put in the release's namespace.
    #[error("namespace {namespace}: {reason}")]
    Namespace {
        /// The namespace.
        namespace: String,
        /// Why.
        reason: String,
    },
    /// Running helm failed.
    #[error("running {binary}: {source}")]
    Run {
        /// The binary.
        binary: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Which `helm upgrade --install` this is, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deploy {
    /// The release's first.
    Install,
    /// A change to an installed release.
    Upgrade,
}

impl Deploy {
    fn verb(self) -> &'static str {
        match self {
            Self::Install => "install",
            Self::Upgrade => "upgrade",
        }
    }
}

/// One layer of a release's values, in the order Helm reads them (later over earlier).
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// The user's values file, passed to Helm unchanged.
    File(PathBuf),
    /// Inline values (a scenario's `values`, an upgrade's changes).
    Inline(Value),
}

/// What a release is made of.
#[derive(Clone, Debug)]
pub struct ReleaseSpec {
    /// The chart.
    pub chart: ChartSource,
    /// Release name (`external-secrets`, `reloader`).
    pub name: String,
    /// Release namespace, created when missing.
    pub namespace: String,
    /// The user's values, the bench's go over them.
    pub values: Vec<Values>,
}

impl ReleaseSpec {
    /// ` (values from FILE, …)` when the user gave files, for messages.
    fn files_said(&self) -> String {
        let files: Vec<String> = self
            .values
            .iter()
            .filter_map(|v| match v {
                Values::File(path) => Some(path.display().to_string()),
                Values::Inline(_) => None,
            })
            .collect();
        if files.is_empty() {
            String::new()
        } else {
            format!(" (values from {})", files.join(", "))
        }
    }
}

/// `helm` against one cluster.
#[derive(Clone, Debug)]
pub struct Helm {
    binary: PathBuf,
    kubeconfig: PathBuf,
    /// Prepared charts (`charts/`), Helm's own cache and configuration (`home/`), and the
    /// values files of installs under way (`values/`).
    cache: PathBuf,
    timeout: Duration,
}

impl Helm {
    /// `binary` against the cluster of `kubeconfig`, keeping what it needs under `cache`.
    #[must_use]
    pub fn new(binary: PathBuf, kubeconfig: PathBuf, cache: PathBuf) -> Self {
        Self {
            binary,
            kubeconfig,
            cache,
            timeout: Duration::from_secs(180),
        }
    }

    /// `helm upgrade --install --wait` with the user's values in order, then the bench's;
    /// `pod_proxy` is where the release's pods reach the fakes. A failed release stays as
    /// Helm leaves it (a failed revision) for the caller to inspect or uninstall.
    pub async fn deploy(
        &self,
        client: &kube::Client,
        spec: &ReleaseSpec,
        pod_proxy: &str,
        ca_pem: &str,
        action: Deploy,
    ) -> Result<(), HelmError> {
        let chart = spec.chart.prepare(&self.cache.join("charts"))?;
        let mut user = Value::Object(serde_json::Map::new());
        for layer in &spec.values {
            match layer {
                Values::File(path) => values::merge(&mut user, &read_values(path)?),
                Values::Inline(inline) => values::merge(&mut user, inline),
            }
        }
        let bench = values::bench_values(
            spec.chart.kind,
            &user,
            pod_proxy,
            &api_server(client).await?,
        );
        put_ca(client, &spec.namespace, ca_pem).await?;
        // Needed only while helm runs; one directory per process and release.
        let dir = self
            .cache
            .join(format!("values/{}-{}", std::process::id(), spec.name));
        let write = |file: String, value: &Value| -> Result<PathBuf, HelmError> {
            let path = dir.join(file);
            std::fs::create_dir_all(&dir)
                .and_then(|()| {
                    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap_or_default())
                })
                .map_err(|e| HelmError::Values {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
            Ok(path)
        };
        let mut files = Vec::new();
        for (index, layer) in spec.values.iter().enumerate() {
            files.push(match layer {
                Values::File(path) => path.clone(),
                Values::Inline(inline) => write(format!("values.{index}.json"), inline)?,
            });
        }
        files.push(write("values.bench.json".into(), &bench)?);

        let mut command = self.command();
        command
            .args(["upgrade", "--install", &spec.name])
            .arg(&chart)
            .args([
                "--namespace",
                &spec.namespace,
                "--create-namespace",
                "--wait",
            ])
            .arg(format!("--timeout={}s", self.timeout.as_secs()));
        for file in &files {
            command.arg("--values").arg(file);
        }
        let outcome = self.run(command).await;
        let _ = std::fs::remove_dir_all(&dir);
        outcome?.map_err(|message| HelmError::Helm {
            action: action.verb(),
            release: spec.name.clone(),
            values: spec.files_said(),
            message,
        })
    }

    /// Uninstalls a release and waits for its resources to be gone.
    pub async fn uninstall(&self, name: &str, namespace: &str) -> Result<(), HelmError> {
        let mut command = self.command();
        command
            .args(["uninstall", name, "--namespace", namespace])
            .args(["--wait", "--ignore-not-found"])
            .arg(format!("--timeout={}s", self.timeout.as_secs()));
        self.run(command).await?.map_err(|message| HelmError::Helm {
            action: "uninstall",
            release: name.to_owned(),
            values: String::new(),
            message,
        })
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .env("KUBECONFIG", &self.kubeconfig)
            // Helm's own cache and configuration stay with the bench, not in the user's home.
            .env("HELM_CACHE_HOME", self.cache.join("home/cache"))
            .env("HELM_CONFIG_HOME", self.cache.join("home/config"))
            .env("HELM_DATA_HOME", self.cache.join("home/data"))
            .kill_on_drop(true);
        command
    }

    /// Runs helm: `Ok(Err(lines))` carries Helm's `Error:` lines when it fails.
    async fn run(&self, mut command: Command) -> Result<Result<(), String>, HelmError> {
        let output = command.output().await.map_err(|source| HelmError::Run {
            binary: self.binary.clone(),
            source,
        })?;
        if output.status.success() {
            return Ok(Ok(()));
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with("level=WARN"))
            .collect();
        Ok(Err(errors.join("\n")))
    }
}

fn read_values(path: &Path) -> Result<Value, HelmError> {
    let error = |reason: String| HelmError::Values {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let value: Value = serde_yaml_ng::from_str(&text).map_err(|e| error(e.to_string()))?;
    Ok(if value.is_null() {
        Value::Object(serde_json::Map::new())
    } else {
        value
    })
}

/// The images a release's pods wait for and cannot pull, with what to do: the bench's images
/// are built on this machine and no registry serves them, so a cluster the bench did not
/// start must be given them. Empty when no pod waits on an image.
pub async fn unpullable(client: &kube::Client, namespace: &str) -> String {
    let api: kube::Api<k8s_openapi::api::core::v1::Pod> =
        kube::Api::namespaced(client.clone(), namespace);
    let Ok(pods) = api.list(&kube::api::ListParams::default()).await else {
        return String::new();
    };
    let images: std::collections::BTreeSet<String> = pods
        .items
        .iter()
        .filter_map(|pod| pod.status.as_ref()?.container_statuses.as_ref())
        .flatten()
        .filter(|status| {
            status
                .state
                .as_ref()
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.as_deref())
                .is_some_and(|reason| reason.contains("ImagePull"))
        })
        .map(|status| status.image.clone())
        .collect();
    if images.is_empty() {
        return String::new();
    }
    format!(
        "\nthe cluster cannot pull {}: the bench builds its images on this machine. Save them \
         with `harness images save DIR` and load them into the cluster (kind: `kind load \
         image-archive DIR/images.tar`; k3d: `k3d image import DIR/images.tar`), then run again",
        images.into_iter().collect::<Vec<_>>().join(", ")
    )
}

/// The `kubernetes` Service's address, where in-cluster clients reach the API server (it is
/// not the same on every cluster: 10.96.0.1 on kind, 10.43.0.1 on k3d).
async fn api_server(client: &kube::Client) -> Result<String, HelmError> {
    let services: kube::Api<k8s_openapi::api::core::v1::Service> =
        kube::Api::namespaced(client.clone(), "default");
    let failed = |reason: String| HelmError::Namespace {
        namespace: "default".into(),
        reason,
    };
    services
        .get("kubernetes")
        .await
        .map_err(|e| failed(format!("the `kubernetes` Service: {e}")))?
        .spec
        .and_then(|spec| spec.cluster_ip)
        .ok_or_else(|| failed("the `kubernetes` Service has no cluster IP".into()))
}

/// The release's namespace with the bench's CA in it, for ESO's controller to mount.
async fn put_ca(client: &kube::Client, namespace: &str, ca_pem: &str) -> Result<(), HelmError> {
    let objects = serde_json::json!([
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": values::CA_CONFIG_MAP, "namespace": namespace},
            "data": {"ca.pem": ca_pem},
        },
    ]);
    let yaml = objects
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| serde_yaml_ng::to_string(o).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("---\n");
    k8s::apply_yaml(client, &yaml)
        .await
        .map(drop)
        .map_err(|e| HelmError::Namespace {
            namespace: namespace.to_owned(),
            reason: e.to_string(),
        })
}
