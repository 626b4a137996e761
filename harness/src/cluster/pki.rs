//! The plane's PKI: one CA, the apiserver's serving certificate, the admin client certificate
//! and the service-account signing key. All keys are ECDSA P-256 in PKCS#8, which
//! kube-apiserver accepts for `--service-account-signing-key-file` (tokens are ES256).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

/// Paths of the files written by [`Pki::generate`].
#[derive(Clone, Debug)]
pub struct Pki {
    /// CA certificate (client CA and the serving cert's issuer).
    pub ca_cert: PathBuf,
    /// CA certificate, PEM text.
    pub ca_pem: String,
    /// kube-apiserver serving certificate (SANs 127.0.0.1, localhost).
    pub apiserver_cert: PathBuf,
    /// Its key.
    pub apiserver_key: PathBuf,
    /// Admin client certificate (CN=admin, O=system:masters), PEM text.
    pub admin_cert_pem: String,
    /// Its key, PEM text.
    pub admin_key_pem: String,
    /// Service-account signing key (PKCS#8).
    pub sa_key: PathBuf,
    /// Its public key.
    pub sa_pub: PathBuf,
}

/// PKI generation failed.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// rcgen refused.
    #[error("certificate generation failed: {0}")]
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

fn validity(params: &mut CertificateParams) {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(365);
}

fn name(cn: &str, org: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    if let Some(org) = org {
        dn.push(DnType::OrganizationName, org);
    }
    dn
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

        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.distinguished_name = name("akv-e2e local plane CA", Some("akv-e2e"));
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        validity(&mut ca_params);
        let ca_pem = ca_params.self_signed(&ca_key)?.pem();
        let ca = Issuer::new(ca_params, ca_key);

        let serving_key = KeyPair::generate()?;
        let mut serving = CertificateParams::new(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
            "kubernetes".to_owned(),
            "kubernetes.default.svc".to_owned(),
        ])?;
        serving.distinguished_name = name("kube-apiserver", None);
        serving.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        validity(&mut serving);
        let serving_pem = serving.signed_by(&serving_key, &ca)?.pem();

        let admin_key = KeyPair::generate()?;
        let mut admin = CertificateParams::new(Vec::<String>::new())?;
        admin.distinguished_name = name("admin", Some("system:masters"));
        admin.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        admin.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        validity(&mut admin);
        let admin_cert_pem = admin.signed_by(&admin_key, &ca)?.pem();

        let sa_key = KeyPair::generate()?;

        Ok(Self {
            ca_cert: write("ca.crt", &ca_pem)?,
            apiserver_cert: write("apiserver.crt", &serving_pem)?,
            apiserver_key: write("apiserver.key", &serving_key.serialize_pem())?,
            admin_key_pem: {
                let pem = admin_key.serialize_pem();
                write("admin.key", &pem)?;
                pem
            },
            admin_cert_pem: {
                write("admin.crt", &admin_cert_pem)?;
                admin_cert_pem
            },
            sa_key: write("sa.key", &sa_key.serialize_pem())?,
            sa_pub: write("sa.pub", &sa_key.public_key_pem())?,
            ca_pem,
        })
    }
}
