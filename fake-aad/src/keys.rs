//! Token signing keys: one RSA-2048 key per tenant, each with a self-signed certificate so the
//! published JWKS looks like Entra's (`kid` = `x5t` = base64url SHA-1 thumbprint, plus `x5c`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::EncodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use sha1::{Digest, Sha1};
use uuid::Uuid;

/// Errors while creating a signing key or signing.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// RSA key generation or encoding failed.
    #[error("RSA key error: {0}")]
    Rsa(String),
    /// Certificate creation failed.
    #[error("certificate error: {0}")]
    Cert(#[from] rcgen::Error),
    /// JWT signing failed.
    #[error("signing failed: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// One tenant's signing key.
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    jwk: Jwk,
}

/// A JSON Web Key as Entra publishes it at `jwks_uri`.
#[derive(Clone, Debug, Serialize)]
pub struct Jwk {
    kty: &'static str,
    #[serde(rename = "use")]
    use_: &'static str,
    kid: String,
    x5t: String,
    n: String,
    e: String,
    x5c: Vec<String>,
    issuer: String,
}

/// The JWKS document.
#[derive(Debug, Serialize)]
pub struct Jwks {
    keys: Vec<Jwk>,
}

impl SigningKey {
    fn generate(tenant: Uuid) -> Result<Self, KeyError> {
        let mut rng = rand::thread_rng();
        let key = RsaPrivateKey::new(&mut rng, 2048).map_err(|e| KeyError::Rsa(e.to_string()))?;
        let pkcs8 = key
            .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|e| KeyError::Rsa(e.to_string()))?;
        let pkcs1 = key
            .to_pkcs1_der()
            .map_err(|e| KeyError::Rsa(e.to_string()))?;
        let key_pair = rcgen::KeyPair::from_pem_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256)?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            "accounts.accesscontrol.windows.net",
        );
        let cert = params.self_signed(&key_pair)?;
        let der = cert.der().to_vec();
        let kid = URL_SAFE_NO_PAD.encode(Sha1::digest(&der));
        let public = key.to_public_key();
        let jwk = Jwk {
            kty: "RSA",
            use_: "sig",
            kid: kid.clone(),
            x5t: kid.clone(),
            n: URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
            e: URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
            x5c: vec![STANDARD.encode(&der)],
            issuer: format!("https://login.microsoftonline.com/{tenant}/v2.0"),
        };
        Ok(Self {
            kid,
            encoding: EncodingKey::from_rsa_der(pkcs1.as_bytes()),
            jwk,
        })
    }

    /// Signs `claims` as an RS256 JWT with `typ`, `x5t` and `kid` in the header, as Entra does.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("JWT".to_owned());
        header.kid = Some(self.kid.clone());
        header.x5t = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }
}

/// All tenants' signing keys, created on first use.
#[derive(Clone, Default)]
pub struct SigningKeys {
    keys: Arc<Mutex<HashMap<Uuid, Arc<SigningKey>>>>,
}

impl SigningKeys {
    /// The key of `tenant`, generated the first time it is asked for.
    pub fn for_tenant(&self, tenant: Uuid) -> Result<Arc<SigningKey>, KeyError> {
        if let Some(key) = self.keys.lock().expect("keys lock").get(&tenant) {
            return Ok(key.clone());
        }
        // Generated outside the lock: RSA generation takes a while and other tenants need not wait.
        let fresh = Arc::new(SigningKey::generate(tenant)?);
        Ok(self
            .keys
            .lock()
            .expect("keys lock")
            .entry(tenant)
            .or_insert(fresh)
            .clone())
    }

    /// The JWKS for the given tenants (one tenant, or all of them for `common`).
    pub fn jwks(&self, tenants: &[Uuid]) -> Result<Jwks, KeyError> {
        let keys = tenants
            .iter()
            .map(|t| self.for_tenant(*t).map(|k| k.jwk.clone()))
            .collect::<Result<_, _>>()?;
        Ok(Jwks { keys })
    }
}
