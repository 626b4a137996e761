//! Kubeconfig files and the client built from them.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kube::config::{KubeConfigOptions, Kubeconfig};

/// A kubeconfig could not be written or read, or the client not built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Writing the file failed.
    #[error("{path}: {source}")]
    Write {
        /// The kubeconfig.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Reading or interpreting the kubeconfig failed.
    #[error("kubeconfig {path}: {source}")]
    Config {
        /// The kubeconfig.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Writes a single-context kubeconfig (context `harness`) with the certificates embedded, so
/// `kubectl --kubeconfig <path>` works from anywhere.
pub fn write_kubeconfig(
    path: &Path,
    server: &str,
    ca_pem: &str,
    client_cert_pem: &str,
    client_key_pem: &str,
) -> Result<(), ClientError> {
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: harness
  cluster:
    server: {server}
    certificate-authority-data: {ca}
users:
- name: admin
  user:
    client-certificate-data: {cert}
    client-key-data: {key}
contexts:
- name: harness
  context:
    cluster: harness
    user: admin
current-context: harness
",
        ca = STANDARD.encode(ca_pem),
        cert = STANDARD.encode(client_cert_pem),
        key = STANDARD.encode(client_key_pem),
    );
    std::fs::write(path, text).map_err(|source| ClientError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// A client for the kubeconfig's current context.
pub async fn client_from_kubeconfig(path: &Path) -> Result<kube::Client, ClientError> {
    let fail = |source: Box<dyn std::error::Error + Send + Sync>| ClientError::Config {
        path: path.to_path_buf(),
        source,
    };
    let kubeconfig = Kubeconfig::read_from(path).map_err(|e| fail(Box::new(e)))?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| fail(Box::new(e)))?;
    kube::Client::try_from(config).map_err(|e| fail(Box::new(e)))
}
