//! Test PKI: one local CA per state directory, and leaf certificates for the names the fakes
//! answer to.
//!
//! Unmodified clients (ESO, the Azure SDKs, `az`) verify TLS against their trust store, so the
//! fakes present certificates for Azure's real host names issued by this CA, and the harness
//! hands the CA to clients (`SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, `NODE_EXTRA_CA_CERTS`).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use crate::Cloud;

/// Names for direct, non-impersonating use: `https://127.0.0.1:PORT` and `{vault}.localhost`.
pub const LOCAL_HOST_NAMES: &[&str] = &["localhost", "*.localhost", "127.0.0.1"];

/// Errors while minting, loading or writing certificates.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// rcgen refused the parameters or the key.
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the certificate or key.
    #[error("TLS configuration rejected the certificate: {0}")]
    Tls(#[from] rustls::Error),
    /// Reading or writing a PEM file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// The local certificate authority: its certificate (PEM) and signing key.
pub struct CertificateAuthority {
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .finish_non_exhaustive()
    }
}

/// A leaf certificate with its private key, ready for a rustls server (or, from
/// [`CertificateAuthority::issue_client`], for a TLS client).
#[derive(Clone)]
pub struct LeafCertificate {
    /// DER of the leaf certificate.
    pub cert_der: CertificateDer<'static>,
    /// PKCS#8 DER of its private key.
    pub key_der: Vec<u8>,
    /// The certificate, PEM-encoded (for programs that read files, like kube-apiserver).
    pub cert_pem: String,
    /// The private key, PKCS#8 PEM.
    pub key_pem: String,
    /// The names it is valid for.
    pub names: Vec<String>,
}

impl std::fmt::Debug for LeafCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeafCertificate")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

const CA_CERT_FILE: &str = "ca.pem";
const CA_KEY_FILE: &str = "ca-key.pem";

impl CertificateAuthority {
    /// A fresh CA with an ECDSA P-256 key, valid for ten years from yesterday.
    pub fn generate() -> Result<Self, PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "akv-e2e local test CA");
        dn.push(DnType::OrganizationName, "akv-e2e");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(3650);
        let cert = params.self_signed(&key)?;
        Ok(Self {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// Loads the CA kept in `dir`, or creates and writes one there, so clients that trusted it
    /// once keep trusting the fakes across restarts.
    pub fn load_or_generate(dir: &Path) -> Result<Self, PkiError> {
        let cert_path = dir.join(CA_CERT_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        if cert_path.exists() && key_path.exists() {
            let cert_pem = read(&cert_path)?;
            let key = KeyPair::from_pem(&read(&key_path)?)?;
            let issuer = Issuer::from_ca_cert_pem(&cert_pem, key)?;
            return Ok(Self { cert_pem, issuer });
        }
        let ca = Self::generate()?;
        ca.write(dir)?;
        Ok(ca)
    }

    /// Writes `ca.pem` and `ca-key.pem` (mode 0600) into `dir` and returns the certificate's path.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, PkiError> {
        fs::create_dir_all(dir).map_err(|source| PkiError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let cert_path = dir.join(CA_CERT_FILE);
        write(&cert_path, &self.cert_pem)?;
        let key_path = dir.join(CA_KEY_FILE);
        write(&key_path, &self.issuer.key().serialize_pem())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&key_path, fs::Permissions::from_mode(0o600)).map_err(
                |source| PkiError::Io {
                    path: key_path.clone(),
                    source,
                },
            )?;
        }
        Ok(cert_path)
    }

    /// The CA certificate, PEM-encoded.
    #[must_use]
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Issues a server certificate for `names` (DNS names, wildcards or IP addresses).
    pub fn issue(&self, names: &[String]) -> Result<LeafCertificate, PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(names.to_vec())?;
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            names.first().map_or("akv-e2e", String::as_str),
        );
        params.distinguished_name = dn;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        // Under 398 days: the longest validity Apple and browser TLS stacks accept.
        params.not_after = now + Duration::days(397);
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(LeafCertificate {
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            names: names.to_vec(),
        })
    }

    /// Issues a client certificate: `CN=common_name, O=organization`, the identity and group
    /// Kubernetes reads from client certificates (e.g. `admin` in `system:masters`).
    pub fn issue_client(
        &self,
        common_name: &str,
        organization: &str,
    ) -> Result<LeafCertificate, PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        dn.push(DnType::OrganizationName, organization);
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(397);
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(LeafCertificate {
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            names: Vec::new(),
        })
    }

    /// Issues the standard leaf: every cloud's host names ([`Cloud::tls_names`]), the local
    /// names, and `extra`. One leaf for all clouds: which clouds are answered is the routing
    /// proxy's decision, and a name nobody routes to costs nothing.
    pub fn issue_default(&self, extra: &[String]) -> Result<LeafCertificate, PkiError> {
        let mut names: Vec<String> = Cloud::ALL
            .into_iter()
            .flat_map(Cloud::tls_names)
            .chain(LOCAL_HOST_NAMES.iter().map(|s| (*s).to_owned()))
            .collect();
        for name in extra {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        self.issue(&names)
    }
}

impl LeafCertificate {
    /// A rustls server configuration presenting this certificate (HTTP/2 and HTTP/1.1 via ALPN).
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, PkiError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![self.cert_der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone())),
            )?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

fn read(path: &Path) -> Result<String, PkiError> {
    fs::read_to_string(path).map_err(|source| PkiError::Io {
        path: path.to_owned(),
        source,
    })
}

fn write(path: &Path, contents: &str) -> Result<(), PkiError> {
    fs::write(path, contents).map_err(|source| PkiError::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_round_trips_through_its_directory() {
        let dir = std::env::temp_dir().join(format!("fake-kit-pki-{}", std::process::id()));
        let first = CertificateAuthority::load_or_generate(&dir).expect("generate");
        let second = CertificateAuthority::load_or_generate(&dir).expect("load");
        assert_eq!(first.cert_pem(), second.cert_pem());
        let leaf = second
            .issue_default(&["extra.example".to_owned()])
            .expect("issue");
        assert!(leaf.names.iter().any(|n| n == "*.vault.azure.net"));
        assert!(leaf.names.iter().any(|n| n == "*.vault.usgovcloudapi.net"));
        assert!(leaf.names.iter().any(|n| n == "login.chinacloudapi.cn"));
        assert!(leaf.names.iter().any(|n| n == "extra.example"));
        leaf.server_config().expect("rustls accepts the leaf");
        fs::remove_dir_all(dir).ok();
    }
}
