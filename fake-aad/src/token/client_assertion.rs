//! Certificate credentials: a JWT signed with the app's private key, identified by the
//! certificate thumbprint in the header (`x5t`, SHA-1, as adal and MSAL Python send it with
//! RS256; or `x5t#S256`, SHA-256, as MSAL Go and newer MSALs send it with PS256).
//! Claims rules (`aud` = the tenant's token endpoint, `iss` = `sub` = client id, `exp`/`nbf`):
//! MicrosoftDocs/entra-docs `docs/identity-platform/certificate-credentials.md`.

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::directory::{App, Tenant};
use crate::error::AadError;

/// How far an assertion's `nbf`/`exp` may be off before Entra refuses it.
const ALLOWED_SKEW_SECONDS: i64 = 300;

/// An assertion's header and claims, read before any signature check.
pub struct Unverified {
    pub header: Header,
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
    pub not_before: Option<i64>,
    pub expires: Option<i64>,
}

/// Reads header and claims of `assertion` without verifying it.
pub fn peek(assertion: &str) -> Result<Unverified, AadError> {
    let header =
        jsonwebtoken::decode_header(assertion).map_err(|_| AadError::MalformedAssertion)?;
    let payload = assertion
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .ok_or(AadError::MalformedAssertion)?;
    let text = |name: &str| {
        payload
            .get(name)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let audiences = match payload.get("aud") {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    Ok(Unverified {
        header,
        issuer: text("iss"),
        subject: text("sub"),
        audiences,
        not_before: payload.get("nbf").and_then(serde_json::Value::as_i64),
        expires: payload.get("exp").and_then(serde_json::Value::as_i64),
    })
}

/// Verifies a certificate assertion for `app`.
pub fn verify(
    assertion: &str,
    unverified: &Unverified,
    app: &App,
    tenant: &Tenant,
    headers: &HeaderMap,
    now: OffsetDateTime,
) -> Result<(), AadError> {
    let (thumbprint, sha256) = match (&unverified.header.x5t_s256, &unverified.header.x5t) {
        (Some(t), _) => (decode_thumbprint(t), true),
        (None, Some(t)) => (decode_thumbprint(t), false),
        (None, None) => return Err(AadError::AssertionSignatureInvalid),
    };
    let certificate = app
        .certificates
        .iter()
        .filter_map(|c| certificate_der(&c.pem))
        .find(|der| {
            let digest = if sha256 {
                Sha256::digest(der).to_vec()
            } else {
                Sha1::digest(der).to_vec()
            };
            Some(digest) == thumbprint
        })
        .ok_or_else(|| AadError::CertificateNotRegistered {
            thumbprint: thumbprint.as_deref().map(hex_upper).unwrap_or_default(),
            client_id: app.app_id.to_string(),
        })?;
    let key = rsa_public_key(&certificate).ok_or(AadError::AssertionSignatureInvalid)?;
    verify_signature(assertion, &unverified.header, &key)?;
    if unverified.subject != unverified.issuer {
        return Err(AadError::AssertionSubjectMismatch);
    }
    let host = request_host(headers);
    if !unverified
        .audiences
        .iter()
        .any(|aud| is_token_endpoint(aud, tenant, host.as_deref()))
    {
        return Err(AadError::AssertionAudienceInvalid);
    }
    check_validity(unverified, now)
}

/// Checks the signature with `key`, accepting only the RSA algorithms Entra accepts.
pub fn verify_signature(
    assertion: &str,
    header: &Header,
    key: &DecodingKey,
) -> Result<(), AadError> {
    if !matches!(
        header.alg,
        Algorithm::RS256
            | Algorithm::PS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::ES256
    ) {
        return Err(AadError::AssertionSignatureInvalid);
    }
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<serde_json::Value>(assertion, key, &validation)
        .map(|_| ())
        .map_err(|_| AadError::AssertionSignatureInvalid)
}

/// AADSTS700024 unless `now` is within `[nbf, exp]`, give or take the allowed skew.
pub fn check_validity(unverified: &Unverified, now: OffsetDateTime) -> Result<(), AadError> {
    let now_s = now.unix_timestamp();
    let nbf = unverified.not_before.unwrap_or(i64::MIN);
    let exp = unverified.expires.unwrap_or(i64::MAX);
    if now_s + ALLOWED_SKEW_SECONDS < nbf || now_s - ALLOWED_SKEW_SECONDS > exp {
        return Err(AadError::AssertionOutsideValidity {
            now: iso7(now),
            nbf: unverified
                .not_before
                .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
                .map(iso7)
                .unwrap_or_default(),
            exp: unverified
                .expires
                .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
                .map(iso7)
                .unwrap_or_default(),
        });
    }
    Ok(())
}

/// `2023-05-30T05:19:20.3135329Z`: the seven-digit fraction Entra prints.
fn iso7(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 100
    )
}

fn decode_thumbprint(text: &str) -> Option<Vec<u8>> {
    [URL_SAFE_NO_PAD, URL_SAFE, STANDARD, STANDARD_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02X}");
        out
    })
}

/// DER of the first certificate in `pem`.
#[must_use]
pub fn certificate_der(pem: &str) -> Option<Vec<u8>> {
    let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).ok()?;
    Some(parsed.contents)
}

fn rsa_public_key(der: &[u8]) -> Option<DecodingKey> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    // For RSA the subject public key bit string is the PKCS#1 RSAPublicKey DER.
    Some(DecodingKey::from_rsa_der(
        &cert.public_key().subject_public_key.data,
    ))
}

fn request_host(headers: &HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
}

/// True for `https://{login host}/{tenant}/oauth2[/v2.0]/token[?...]`.
fn is_token_endpoint(aud: &str, tenant: &Tenant, request_host: Option<&str>) -> bool {
    let Ok(url) = url::Url::parse(aud) else {
        return false;
    };
    let host_ok = url.host_str().is_some_and(|h| {
        crate::discovery::is_login_host(h)
            || request_host.is_some_and(|r| {
                r.eq_ignore_ascii_case(&match url.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_owned(),
                })
            })
    });
    let segments: Vec<&str> = url
        .path_segments()
        .map(Iterator::collect)
        .unwrap_or_default();
    let path_ok = match segments.as_slice() {
        [t, "oauth2", "token"] | [t, "oauth2", "v2.0", "token"] => {
            tenant.id.to_string().eq_ignore_ascii_case(t)
                || tenant.domains.iter().any(|d| d.eq_ignore_ascii_case(t))
        }
        _ => false,
    };
    host_ok && path_ok
}
