//! What a certificate version holds (its DER certificate, the policy it was issued under and
//! the create operation that issued it), self-signed issuance with real keys, and reading the
//! certificates clients import (PFX or PEM).
//!
//! A certificate is three objects in Key Vault, sharing name and version: the certificate, a
//! managed key with its public half and a managed secret holding the PFX or PEM with the
//! private key (MicrosoftDocs `key-vault/certificates/about-certificates.md`, "Composition of a
//! certificate"). This module makes the parts; the handlers store them in the three stores.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::EncodePrivateKey;
use sha1::{Digest, Sha1};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
use x509_parser::public_key::PublicKey;

use super::pkcs12;
use crate::keys::store::{KeyMaterial, default_ops};
use crate::store::{Deleted, Object, ObjectStore, Version};

/// `application/x-pkcs12`: the backing secret is a base64 PFX.
pub const PKCS12: &str = "application/x-pkcs12";
/// `application/x-pem-file`: the backing secret is PEM text.
pub const PEM: &str = "application/x-pem-file";

/// A certificate policy (the swagger's `CertificatePolicy`), domain side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuancePolicy {
    /// `x509_props.subject`, e.g. `CN=example.com`.
    pub subject: String,
    /// `x509_props.sans.dns_names`.
    pub dns_names: Vec<String>,
    /// `x509_props.sans.emails`.
    pub emails: Vec<String>,
    /// `x509_props.sans.upns` (kept, not written into issued certificates).
    pub upns: Vec<String>,
    /// `x509_props.ekus`.
    pub ekus: Vec<String>,
    /// `x509_props.key_usage`.
    pub key_usage: Vec<String>,
    /// `x509_props.validity_months`.
    pub validity_months: u32,
    /// `key_props.kty`: `RSA` or `EC` (`-HSM` accepted).
    pub kty: String,
    /// `key_props.key_size` (RSA).
    pub key_size: Option<u32>,
    /// `key_props.crv` (EC).
    pub crv: Option<String>,
    /// `key_props.exportable`: whether the backing secret carries the private key.
    pub exportable: bool,
    /// `key_props.reuse_key`.
    pub reuse_key: bool,
    /// `secret_props.contentType`.
    pub content_type: String,
    /// `issuer.name`: `Self` for created certificates, `Unknown` for imported ones.
    pub issuer: String,
    /// `attributes.enabled` of the policy.
    pub enabled: bool,
    /// `attributes.created`.
    pub created: i64,
    /// `attributes.updated`.
    pub updated: i64,
}

/// The create operation that issued a version (`CertificateOperation`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuanceRequest {
    /// `request_id`: 32 hex characters.
    pub request_id: String,
    /// The DER CSR.
    pub csr: Vec<u8>,
}

/// A certificate version's payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateMaterial {
    /// The DER certificate (`cer`).
    pub cer: Vec<u8>,
    /// The policy in force when this version was made (get-latest answers the latest's).
    pub policy: IssuancePolicy,
    /// The operation that created it; `None` when imported.
    pub request: Option<IssuanceRequest>,
}

impl CertificateMaterial {
    /// `x5t`: base64url SHA-1 thumbprint of the DER certificate.
    #[must_use]
    pub fn x5t(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha1::digest(&self.cer))
    }
}

/// A vault's certificates.
pub type CertificateStore = ObjectStore<CertificateMaterial>;
/// A certificate with its versions.
pub type Certificate = Object<CertificateMaterial>;
/// One certificate version.
pub type CertificateVersion = Version<CertificateMaterial>;
/// A soft-deleted certificate.
pub type DeletedCertificate = Deleted<CertificateMaterial>;

/// Why a certificate could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// Something in the request is unsupported or invalid.
    #[error("{0}")]
    Invalid(String),
    /// Key or certificate generation failed.
    #[error("certificate generation failed: {0}")]
    Generate(String),
}

impl From<pkcs12::Pkcs12Error> for CertificateError {
    fn from(e: pkcs12::Pkcs12Error) -> Self {
        match e {
            // Key Vault's answer to `az keyvault certificate import` with a wrong password, as
            // captured in ronaldbosma/mtls-with-apim `README.md` (Troubleshooting, "The specified
            // PKCS#12 X.509 certificate content can not be read"): 400, code BadParameter. No
            // azure-sdk recording covers a wrong password.
            pkcs12::Pkcs12Error::BadPassword => CertificateError::Invalid(
                "The specified PKCS#12 X.509 certificate content can not be read. Please check if certificate is in valid PKCS#12 format.".to_owned(),
            ),
            pkcs12::Pkcs12Error::Malformed | pkcs12::Pkcs12Error::Unsupported => {
                CertificateError::Invalid(format!("The specified PFX content is invalid: {e}."))
            }
        }
    }
}

fn generate_error(e: impl std::fmt::Display) -> CertificateError {
    CertificateError::Generate(e.to_string())
}

/// A certificate with its private key, ready to be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issued {
    /// DER certificates, leaf first.
    pub chain: Vec<Vec<u8>>,
    /// The PKCS#8 private key; `None` for an import without one.
    pub key: Option<Vec<u8>>,
    /// The public key for the managed key object.
    pub jwk: KeyMaterial,
    /// `nbf` of the leaf.
    pub not_before: i64,
    /// `exp` of the leaf.
    pub expires: i64,
}

impl Issued {
    /// The backing secret's value: base64 PFX, or PEM (key first, then the chain), with the
    /// private key only when `exportable`.
    #[must_use]
    pub fn secret_value(&self, content_type: &str, exportable: bool) -> String {
        let key = self.key.as_deref().filter(|_| exportable);
        if content_type == PEM {
            let mut out = String::new();
            if let Some(key) = key {
                out.push_str(&pem_block("PRIVATE KEY", key));
            }
            for cert in &self.chain {
                out.push_str(&pem_block("CERTIFICATE", cert));
            }
            out
        } else {
            STANDARD.encode(pkcs12::encode(&self.chain, key))
        }
    }
}

fn pem_block(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// A fresh private key for `policy`, PKCS#8 DER, with its signature algorithm.
fn generate_key(
    policy: &IssuancePolicy,
) -> Result<(Vec<u8>, &'static rcgen::SignatureAlgorithm), CertificateError> {
    match policy.kty.trim_end_matches("-HSM") {
        "RSA" => {
            let bits = policy.key_size.unwrap_or(2048);
            if ![2048, 3072, 4096].contains(&bits) {
                return Err(CertificateError::Invalid(format!(
                    "Invalid key size {bits}. Supported sizes are 2048, 3072 and 4096."
                )));
            }
            let key = RsaPrivateKey::new(&mut rand::thread_rng(), bits as usize)
                .map_err(generate_error)?;
            let der = key.to_pkcs8_der().map_err(generate_error)?;
            Ok((der.as_bytes().to_vec(), &rcgen::PKCS_RSA_SHA256))
        }
        "EC" => {
            let alg = match policy.crv.as_deref().unwrap_or("P-256") {
                "P-256" => &rcgen::PKCS_ECDSA_P256_SHA256,
                "P-384" => &rcgen::PKCS_ECDSA_P384_SHA384,
                other => {
                    return Err(CertificateError::Invalid(format!(
                        "The curve {other} is not supported by this emulator."
                    )));
                }
            };
            let pair = rcgen::KeyPair::generate_for(alg).map_err(generate_error)?;
            Ok((pair.serialize_der(), alg))
        }
        other => Err(CertificateError::Invalid(format!(
            "The key type {other} is not supported for certificates."
        ))),
    }
}

/// `time + months`, clamping the day to the target month's length.
fn add_months(time: OffsetDateTime, months: u32) -> OffsetDateTime {
    let total = i64::from(time.month() as u8) - 1 + i64::from(months);
    let year = time.year() + (total / 12) as i32;
    let month = time::Month::try_from((total % 12 + 1) as u8).expect("1..=12");
    let day = time.day().min(time::util::days_in_month(month, year));
    let date = time::Date::from_calendar_date(year, month, day).expect("valid date");
    time.replace_date(date)
}

/// Calendar months from `from` to `to`, a started month counting whole: Key Vault reports
/// `validity_months: 13` for an imported certificate valid 365 days and 10 minutes (JS
/// recordings of `canimportacertificatefromacertificatesbase64secretvalue`, azure-sdk-for-js
/// `sdk/keyvault/keyvault-certificates/recordings/node/`).
fn months_between(from: i64, to: i64) -> u32 {
    let (Ok(start), Ok(end)) = (
        OffsetDateTime::from_unix_timestamp(from),
        OffsetDateTime::from_unix_timestamp(to),
    ) else {
        return 0;
    };
    let span = (end.year() - start.year()) * 12 + i32::from(end.month() as u8)
        - i32::from(start.month() as u8);
    let mut months = u32::try_from(span).unwrap_or(0);
    while months > 0 && add_months(start, months - 1) >= end {
        months -= 1;
    }
    while add_months(start, months) < end {
        months += 1;
    }
    months
}

fn distinguished_name(subject: &str) -> Result<rcgen::DistinguishedName, CertificateError> {
    use rcgen::DnType;
    let mut dn = rcgen::DistinguishedName::new();
    for part in subject
        .split([',', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (kind, value) = part.split_once('=').ok_or_else(|| {
            CertificateError::Invalid(format!("The subject name '{subject}' is invalid."))
        })?;
        let kind = match kind.trim().to_ascii_uppercase().as_str() {
            "CN" => DnType::CommonName,
            "O" => DnType::OrganizationName,
            "OU" => DnType::OrganizationalUnitName,
            "L" => DnType::LocalityName,
            "ST" | "S" => DnType::StateOrProvinceName,
            "C" => DnType::CountryName,
            other => {
                return Err(CertificateError::Invalid(format!(
                    "The subject attribute '{other}' is not supported by this emulator."
                )));
            }
        };
        dn.push(kind, value.trim());
    }
    Ok(dn)
}

/// Issues a self-signed certificate for `policy` at `now`, with its CSR. Key Vault backdates
/// `nbf` by ten minutes and sets `exp` `validity_months` after creation (JS recording
/// `recording_can_create_a_certificate.js`: nbf = created − 600, exp = created + 12 months).
pub fn issue_self_signed(
    policy: &IssuancePolicy,
    now: i64,
) -> Result<(Issued, Vec<u8>), CertificateError> {
    use rcgen::{ExtendedKeyUsagePurpose as Eku, KeyUsagePurpose as Ku, SanType};
    let (key_der, alg) = generate_key(policy)?;
    let pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&key_der.as_slice().into(), alg)
        .map_err(generate_error)?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = distinguished_name(&policy.subject)?;
    for name in &policy.dns_names {
        params.subject_alt_names.push(SanType::DnsName(
            name.clone().try_into().map_err(generate_error)?,
        ));
    }
    for email in &policy.emails {
        params.subject_alt_names.push(SanType::Rfc822Name(
            email.clone().try_into().map_err(generate_error)?,
        ));
    }
    params.key_usages = policy
        .key_usage
        .iter()
        .filter_map(|u| match u.as_str() {
            "digitalSignature" => Some(Ku::DigitalSignature),
            "nonRepudiation" => Some(Ku::ContentCommitment),
            "keyEncipherment" => Some(Ku::KeyEncipherment),
            "dataEncipherment" => Some(Ku::DataEncipherment),
            "keyAgreement" => Some(Ku::KeyAgreement),
            "keyCertSign" => Some(Ku::KeyCertSign),
            "cRLSign" => Some(Ku::CrlSign),
            "encipherOnly" => Some(Ku::EncipherOnly),
            "decipherOnly" => Some(Ku::DecipherOnly),
            _ => None,
        })
        .collect();
    params.extended_key_usages = policy
        .ekus
        .iter()
        .map(|oid| match oid.as_str() {
            "1.3.6.1.5.5.7.3.1" => Eku::ServerAuth,
            "1.3.6.1.5.5.7.3.2" => Eku::ClientAuth,
            other => Eku::Other(other.split('.').filter_map(|a| a.parse().ok()).collect()),
        })
        .collect();
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    let created = OffsetDateTime::from_unix_timestamp(now).map_err(generate_error)?;
    params.not_before = created - time::Duration::minutes(10);
    params.not_after = add_months(created, policy.validity_months);
    // A CSR carries no serial number, so it is made before one is set.
    let csr = params
        .serialize_request(&pair)
        .map_err(generate_error)?
        .der()
        .to_vec();
    params.serial_number = Some(rcgen::SerialNumber::from_slice(
        &rand::random::<[u8; 16]>().map(|b| b & 0x7f),
    ));
    let cert = params.self_signed(&pair).map_err(generate_error)?;
    let issued = describe(vec![cert.der().to_vec()], Some(key_der))?;
    Ok((issued, csr))
}

/// How an imported certificate arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportFormat {
    /// A PKCS#12 file.
    Pfx,
    /// PEM text.
    Pem,
}

impl ImportFormat {
    /// The backing secret's content type for this format.
    #[must_use]
    pub fn content_type(self) -> &'static str {
        match self {
            ImportFormat::Pfx => PKCS12,
            ImportFormat::Pem => PEM,
        }
    }
}

/// What an import's `value` holds: a base64 PFX, base64 of PEM text (what the SDKs send for
/// `application/x-pem-file`: azure-keyvault-certificates' `import_certificate` base64-encodes
/// whatever bytes it is given), or PEM text itself. `password` opens a PFX; none means the empty
/// one, which is what a "no password" PFX is protected under.
pub fn read_import(
    value: &str,
    password: Option<&str>,
) -> Result<(Issued, ImportFormat), CertificateError> {
    let invalid = || {
        CertificateError::Invalid(
            "The specified certificate content is invalid: it is neither a base64 PFX nor PEM with a certificate.".to_owned(),
        )
    };
    let text = if value.contains("-----BEGIN") {
        value.to_owned()
    } else {
        let bytes = STANDARD.decode(value.trim()).map_err(|_| invalid())?;
        match String::from_utf8(bytes) {
            Ok(text) if text.contains("-----BEGIN") => text,
            Ok(text) => return read_pfx(text.as_bytes(), password),
            Err(e) => return read_pfx(e.as_bytes(), password),
        }
    };
    let mut chain = Vec::new();
    let mut key = None;
    for item in rustls_pemfile::read_all(&mut text.as_bytes()) {
        match item.map_err(|_| invalid())? {
            rustls_pemfile::Item::X509Certificate(der) => chain.push(der.to_vec()),
            rustls_pemfile::Item::Pkcs8Key(der) => key = Some(der.secret_pkcs8_der().to_vec()),
            rustls_pemfile::Item::Pkcs1Key(der) => {
                let rsa =
                    RsaPrivateKey::from_pkcs1_der(der.secret_pkcs1_der()).map_err(|_| invalid())?;
                key = Some(
                    rsa.to_pkcs8_der()
                        .map_err(generate_error)?
                        .as_bytes()
                        .to_vec(),
                );
            }
            rustls_pemfile::Item::Sec1Key(_) => {
                return Err(CertificateError::Invalid(
                    "SEC1 (EC PRIVATE KEY) keys are not supported by this emulator; use PKCS#8."
                        .to_owned(),
                ));
            }
            _ => {}
        }
    }
    if chain.is_empty() {
        return Err(invalid());
    }
    Ok((describe(chain, key)?, ImportFormat::Pem))
}

fn read_pfx(
    bytes: &[u8],
    password: Option<&str>,
) -> Result<(Issued, ImportFormat), CertificateError> {
    let pfx = pkcs12::decode(bytes, password.unwrap_or_default())?;
    if pfx.certs.is_empty() {
        return Err(CertificateError::Invalid(
            "The specified PFX content holds no certificate.".to_owned(),
        ));
    }
    Ok((describe(pfx.certs, pfx.key)?, ImportFormat::Pfx))
}

/// Reads the leaf's validity and public key.
fn describe(chain: Vec<Vec<u8>>, key: Option<Vec<u8>>) -> Result<Issued, CertificateError> {
    let (_, leaf) = X509Certificate::from_der(&chain[0]).map_err(|_| {
        CertificateError::Invalid("The specified certificate is not valid X.509.".to_owned())
    })?;
    let jwk = jwk(&leaf)?;
    Ok(Issued {
        not_before: leaf.validity().not_before.timestamp(),
        expires: leaf.validity().not_after.timestamp(),
        jwk,
        key,
        chain,
    })
}

fn jwk(cert: &X509Certificate<'_>) -> Result<KeyMaterial, CertificateError> {
    let spki = cert.public_key();
    let unsupported =
        || CertificateError::Invalid("The certificate's key type is not supported.".to_owned());
    match spki.parsed().map_err(|_| unsupported())? {
        PublicKey::RSA(rsa) => {
            let strip = |b: &[u8]| {
                let first = b.iter().position(|&x| x != 0).unwrap_or(b.len());
                URL_SAFE_NO_PAD.encode(&b[first..])
            };
            Ok(KeyMaterial {
                kty: "RSA".to_owned(),
                key_ops: default_ops("RSA"),
                n: Some(strip(rsa.modulus)),
                e: Some(strip(rsa.exponent)),
                ..KeyMaterial::default()
            })
        }
        PublicKey::EC(point) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string());
            let (crv, len) = match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => ("P-256", 32),
                Some("1.3.132.0.34") => ("P-384", 48),
                Some("1.3.132.0.35") => ("P-521", 66),
                _ => return Err(unsupported()),
            };
            let raw = point.data();
            if raw.len() != 1 + 2 * len || raw[0] != 4 {
                return Err(unsupported());
            }
            Ok(KeyMaterial {
                kty: "EC".to_owned(),
                key_ops: default_ops("EC"),
                crv: Some(crv.to_owned()),
                x: Some(URL_SAFE_NO_PAD.encode(&raw[1..=len])),
                y: Some(URL_SAFE_NO_PAD.encode(&raw[1 + len..])),
                ..KeyMaterial::default()
            })
        }
        _ => Err(unsupported()),
    }
}

/// The policy Key Vault derives for an imported certificate without one: issuer `Unknown`,
/// subject, SANs, usages and key parameters read from the certificate.
pub fn policy_of(
    cer: &[u8],
    content_type: &str,
    now: i64,
) -> Result<IssuancePolicy, CertificateError> {
    let (_, cert) = X509Certificate::from_der(cer).map_err(|_| {
        CertificateError::Invalid("The specified certificate is not valid X.509.".to_owned())
    })?;
    let mut policy = IssuancePolicy {
        subject: cert.subject().to_string(),
        issuer: "Unknown".to_owned(),
        content_type: content_type.to_owned(),
        exportable: true,
        enabled: true,
        created: now,
        updated: now,
        ..default_policy()
    };
    let validity = cert.validity();
    policy.validity_months = months_between(
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    );
    let jwk = jwk(&cert)?;
    policy.kty.clone_from(&jwk.kty);
    policy.key_size = jwk
        .n
        .as_ref()
        .and_then(|n| URL_SAFE_NO_PAD.decode(n).ok())
        .map(|n| (n.len() * 8) as u32);
    policy.crv = jwk.crv;
    policy.dns_names.clear();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => policy.dns_names.push((*d).to_owned()),
                GeneralName::RFC822Name(e) => policy.emails.push((*e).to_owned()),
                _ => {}
            }
        }
    }
    policy.ekus.clear();
    if let Ok(Some(eku)) = cert.extended_key_usage() {
        let eku = eku.value;
        if eku.server_auth {
            policy.ekus.push("1.3.6.1.5.5.7.3.1".to_owned());
        }
        if eku.client_auth {
            policy.ekus.push("1.3.6.1.5.5.7.3.2".to_owned());
        }
        policy.ekus.extend(
            eku.other
                .iter()
                .map(x509_parser::der_parser::oid::Oid::to_id_string),
        );
    }
    policy.key_usage.clear();
    if let Ok(Some(usage)) = cert.key_usage() {
        let u = usage.value;
        for (set, name) in [
            (u.digital_signature(), "digitalSignature"),
            (u.non_repudiation(), "nonRepudiation"),
            (u.key_encipherment(), "keyEncipherment"),
            (u.data_encipherment(), "dataEncipherment"),
            (u.key_agreement(), "keyAgreement"),
            (u.key_cert_sign(), "keyCertSign"),
            (u.crl_sign(), "cRLSign"),
        ] {
            if set {
                policy.key_usage.push(name.to_owned());
            }
        }
    }
    Ok(policy)
}

/// Key Vault's defaults for what a create request leaves out: RSA 2048, exportable, PFX, 12
/// months, server and client auth (JS recording `recording_can_create_a_certificate.js`, whose
/// request sent only a subject and got these back).
#[must_use]
pub fn default_policy() -> IssuancePolicy {
    IssuancePolicy {
        subject: String::new(),
        dns_names: Vec::new(),
        emails: Vec::new(),
        upns: Vec::new(),
        ekus: vec![
            "1.3.6.1.5.5.7.3.1".to_owned(),
            "1.3.6.1.5.5.7.3.2".to_owned(),
        ],
        key_usage: vec!["digitalSignature".to_owned(), "keyEncipherment".to_owned()],
        validity_months: 12,
        kty: "RSA".to_owned(),
        key_size: Some(2048),
        crv: None,
        exportable: true,
        reuse_key: false,
        content_type: PKCS12.to_owned(),
        issuer: "Self".to_owned(),
        enabled: true,
        created: 0,
        updated: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(kty: &str) -> IssuancePolicy {
        IssuancePolicy {
            subject: "CN=example.com, O=Contoso".to_owned(),
            dns_names: vec!["example.com".to_owned()],
            kty: kty.to_owned(),
            key_size: (kty == "RSA").then_some(2048),
            crv: (kty == "EC").then(|| "P-256".to_owned()),
            ..default_policy()
        }
    }

    #[test]
    fn self_signed_certificates_read_back_with_their_policy() {
        let now = 1_700_000_000;
        for kty in ["RSA", "EC"] {
            let (issued, csr) = issue_self_signed(&policy(kty), now).unwrap();
            assert!(!csr.is_empty());
            assert_eq!(issued.not_before, now - 600);
            let read = policy_of(&issued.chain[0], PKCS12, now).unwrap();
            assert_eq!(read.subject, "CN=example.com, O=Contoso");
            assert_eq!(read.dns_names, ["example.com"]);
            assert_eq!(read.kty, kty);
            // Twelve months from creation, backdated ten minutes: a started thirteenth month.
            assert_eq!(read.validity_months, 13);
            let pem = issued.secret_value(PEM, true);
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
            assert_eq!(
                read_import(&pem, None).unwrap(),
                (issued.clone(), ImportFormat::Pem)
            );
            let pem_base64 = STANDARD.encode(&pem);
            assert_eq!(read_import(&pem_base64, None).unwrap().1, ImportFormat::Pem);
            let pfx = issued.secret_value(PKCS12, true);
            assert_eq!(
                read_import(&pfx, None).unwrap(),
                (issued.clone(), ImportFormat::Pfx)
            );
            let public_only = read_import(&issued.secret_value(PKCS12, false), None).unwrap();
            assert_eq!(public_only.0.key, None);
        }
    }

    #[test]
    fn months_are_added_on_the_calendar() {
        let jan31 = time::macros::datetime!(2024-01-31 10:00 UTC);
        assert_eq!(
            add_months(jan31, 1),
            time::macros::datetime!(2024-02-29 10:00 UTC)
        );
        assert_eq!(
            add_months(jan31, 12),
            time::macros::datetime!(2025-01-31 10:00 UTC)
        );
        let (nbf, exp) = (1_631_560_467, 1_663_097_067);
        assert_eq!(months_between(nbf, exp), 13);
        assert_eq!(months_between(nbf, nbf + 365 * 86_400), 12);
    }
}
