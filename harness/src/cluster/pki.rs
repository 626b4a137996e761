//! The plane's PKI: one CA, the apiserver's serving certificate, the admin client certificate
//! and the service-account signing key. All keys are ECDSA P-256 in PKCS#8, which
//! kube-apiserver accepts for `--service-account-signing-key-file` (tokens are ES256).

use std::path::{Path, PathBuf};

use fake_kit::CertificateAuthority;
use rcgen::KeyPair;

/// Paths of the files written by [`Pki::generate`].
#[derive(Clone, Debug)]
pub struct Pki {
    /// CA certificate (client CA and the serving cert's issuer).
    pub ca_cert: PathBuf,
    /// CA certificate, PEM text.
    pub ca_pem: String,
    /// kube-apiserver serving certificate (SANs 127.0.0.1, localhost, the `kubernetes` Service).
    pub apiserver_cert: PathBuf,
    /// Its key.
    pub apiserver_key: PathBuf,
    /// Admin client certificate (CN=admin, O=system:masters), PEM text.
    pub admin_cert_pem: String,
    /// Its key, PEM text.
    pub admin_key_pem: String,
    /// The real node's kubelet client certificate (`CN=system:node:<name>`, `O=system:nodes`).
    pub node_cert_pem: String,
    /// Its key.
    pub node_key_pem: String,
    /// Service-account signing key (PKCS#8).
    pub sa_key: PathBuf,
    /// Its public key.
    pub sa_pub: PathBuf,
}

/// PKI generation failed.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// The CA or a certificate could not be made.
    #[error(transparent)]
    Certificate(#[from] fake_kit::PkiError),
    /// rcgen refused the service-account key.
    #[error("key generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// Writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl Pki {
    /// Generates everything into `dir` (created if needed).
    pub fn generate(dir: &Path) -> Result<Self, PkiError> {
        std::fs::create_dir_all(dir).map_err(|source| PkiError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let write = |file: &str, text: &str| -> Result<PathBuf, PkiError> {
            let path = dir.join(file);
            std::fs::write(&path, text).map_err(|source| PkiError::Io {
                path: path.clone(),
                source,
            })?;
            Ok(path)
        };
        let ca = CertificateAuthority::generate()?;
        let serving = ca.issue(&[
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
            "kubernetes".to_owned(),
            "kubernetes.default.svc".to_owned(),
            // The `kubernetes` Service's address, which pods dial (`node::service`).
            crate::node::service::KUBERNETES_SERVICE_IP.to_owned(),
        ])?;
        let admin = ca.issue_client("admin", "system:masters")?;
        let node = ca.issue_client(
            &format!("system:node:{}", crate::node::NODE_NAME),
            "system:nodes",
        )?;
        let sa_key = KeyPair::generate()?;
        write("admin.key", &admin.key_pem)?;
        write("admin.crt", &admin.cert_pem)?;
        Ok(Self {
            ca_cert: write("ca.crt", ca.cert_pem())?,
            apiserver_cert: write("apiserver.crt", &serving.cert_pem)?,
            apiserver_key: write("apiserver.key", &serving.key_pem)?,
            admin_key_pem: admin.key_pem,
            admin_cert_pem: admin.cert_pem,
            node_cert_pem: node.cert_pem,
            node_key_pem: node.key_pem,
            sa_key: write("sa.key", &sa_key.serialize_pem())?,
            sa_pub: write("sa.pub", &sa_key.public_key_pem())?,
            ca_pem: ca.cert_pem().to_owned(),
        })
    }
}
