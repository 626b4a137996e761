//! Credentials a test mints for itself: RSA client certificates to register on an app, and an
//! external OIDC issuer (think: a Kubernetes service-account issuer) whose tokens a federated
//! identity credential trusts.

use anyhow::{Context, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fake_aad::directory::{TOKEN_EXCHANGE_AUDIENCE, TrustedIssuer};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_RSA_SHA256};
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Generates a 2048-bit RSA key. ring cannot generate RSA keys, so the `rsa` crate does.
fn rsa_key() -> Result<RsaPrivateKey> {
    RsaPrivateKey::new(&mut rand::thread_rng(), 2048).context("generating an RSA key")
}

/// A self-signed RSA client certificate with its private key.
#[derive(Clone, Debug)]
pub struct ClientCertificate {
    /// The private key, PKCS#8 PEM.
    pub key_pem: String,
    /// The certificate, PEM: what gets registered on the app.
    pub cert_pem: String,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
}

impl ClientCertificate {
    /// A fresh certificate for `common_name`, valid from yesterday for a year.
    pub fn generate(common_name: &str) -> Result<Self> {
        let key_pem = rsa_key()?.to_pkcs8_pem(LineEnding::LF)?.to_string();
        let key = KeyPair::from_pem_and_sign_algo(&key_pem, &PKCS_RSA_SHA256)?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(365);
        let cert = params.self_signed(&key)?;
        Ok(Self {
            key_pem,
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
        })
    }

    /// Key then certificate in one PEM, the file azure-identity's `CertificateCredential` reads.
    #[must_use]
    pub fn combined_pem(&self) -> String {
        format!("{}{}", self.key_pem, self.cert_pem)
    }

    /// SHA-1 thumbprint, hex: what MSAL's `thumbprint` takes and `x5t` encodes.
    #[must_use]
    pub fn sha1_thumbprint(&self) -> String {
        hex(&Sha1::digest(&self.cert_der))
    }

    /// A client assertion (RFC 7523, as MSAL builds it) for `client_id`, addressed to
    /// `token_url`, valid for ten minutes from `now` (Unix seconds), naming this certificate
    /// by its SHA-1 thumbprint (`x5t`).
    pub fn assertion(&self, client_id: &str, token_url: &str, now: i64) -> Result<String> {
        let claims = json!({
            "aud": token_url,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "exp": now + 600,
        });
        let mut header = Header::new(Algorithm::RS256);
        header.x5t = Some(URL_SAFE_NO_PAD.encode(Sha1::digest(&self.cert_der)));
        let der = rsa::RsaPrivateKey::from_pkcs8_pem(&self.key_pem)?.to_pkcs1_der()?;
        let key = EncodingKey::from_rsa_der(der.as_bytes());
        Ok(jsonwebtoken::encode(&header, &claims, &key)?)
    }

    /// SHA-256 thumbprint, hex (`x5t#S256`).
    #[must_use]
    pub fn sha256_thumbprint(&self) -> String {
        hex(&Sha256::digest(&self.cert_der))
    }
}

fn hex(bytes: &[u8]) -> String {
    crate::cache::hex(bytes).to_ascii_uppercase()
}

/// An external OIDC issuer the test controls.
#[derive(Clone, Debug)]
pub struct ExternalIssuer {
    /// The `iss` of its tokens.
    pub url: String,
    kid: String,
    key: RsaPrivateKey,
}

/// Validity of a minted federated token, relative to now.
#[derive(Clone, Copy, Debug)]
pub struct Validity {
    /// Seconds from now to `nbf`/`iat` (negative: in the past).
    pub from: i64,
    /// Seconds from now to `exp`.
    pub until: i64,
}

impl Validity {
    /// Valid from a minute ago for an hour, like a fresh projected service-account token.
    pub const FRESH: Self = Self {
        from: -60,
        until: 3600,
    };
    /// Expired two hours ago, well beyond Entra's five minutes of allowed skew.
    pub const EXPIRED: Self = Self {
        from: -3 * 3600,
        until: -2 * 3600,
    };
}

impl ExternalIssuer {
    /// A new issuer at `url` with a fresh signing key.
    pub fn generate(url: &str) -> Result<Self> {
        Ok(Self {
            url: url.to_owned(),
            kid: uuid::Uuid::new_v4().simple().to_string(),
            key: rsa_key()?,
        })
    }

    /// Its JWKS, `{"keys":[...]}`.
    #[must_use]
    pub fn jwks(&self) -> Value {
        let public = self.key.to_public_key();
        json!({ "keys": [{
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        }]})
    }

    /// The directory entry that makes fake-aad trust this issuer (keys inline).
    #[must_use]
    pub fn trusted(&self) -> TrustedIssuer {
        TrustedIssuer {
            issuer: self.url.clone(),
            jwks_uri: None,
            keys: Some(self.jwks()),
        }
    }

    /// An RS256 token for `subject` with audience `api://AzureADTokenExchange`.
    pub fn mint(&self, subject: &str, validity: Validity) -> Result<String> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = json!({
            "iss": self.url,
            "sub": subject,
            "aud": [TOKEN_EXCHANGE_AUDIENCE],
            "iat": now + validity.from,
            "nbf": now + validity.from,
            "exp": now + validity.until,
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        // jsonwebtoken is built without its PEM parser; PKCS#1 DER is what it takes then.
        let der = self.key.to_pkcs1_der()?;
        let key = EncodingKey::from_rsa_der(der.as_bytes());
        Ok(jsonwebtoken::encode(&header, &claims, &key)?)
    }
}
