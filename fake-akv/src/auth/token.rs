//! Bearer-token verification: RS256 signatures against fake-aad's JWKS, then Key Vault's own
//! claim checks (issuer, audience, lifetime) against the shared clock.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// Microsoft.IdentityModel's default clock skew, which Key Vault's validation inherits.
pub const CLOCK_SKEW_SECONDS: i64 = 300;

/// The claims Key Vault reads from a v1 access token.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct TokenClaims {
    /// Audience: a string, or (rarely) an array of strings.
    #[serde(default)]
    pub aud: Audience,
    /// Issuer.
    #[serde(default)]
    pub iss: String,
    /// Expiry, Unix seconds.
    pub exp: Option<i64>,
    /// Not before, Unix seconds.
    pub nbf: Option<i64>,
    /// Object id of the caller.
    pub oid: Option<String>,
    /// Application id (v1).
    pub appid: Option<String>,
    /// Application id (v2).
    pub azp: Option<String>,
}

/// `aud` as a string or a list.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Audience {
    /// One audience.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl Default for Audience {
    fn default() -> Self {
        Audience::One(String::new())
    }
}

impl Audience {
    /// The audiences as a list.
    #[must_use]
    pub fn values(&self) -> Vec<&str> {
        match self {
            Audience::One(a) => vec![a.as_str()],
            Audience::Many(list) => list.iter().map(String::as_str).collect(),
        }
    }
}

/// Why a token's signature could not be verified.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT, or claims that do not parse.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// No key with the token's `kid`, even after refetching the JWKS.
    #[error("unknown signing key '{0}'")]
    UnknownKey(String),
    /// No JWKS source is configured, so no token can be verified.
    #[error("no token issuer is configured")]
    NoIssuer,
    /// The JWKS could not be fetched.
    #[error("cannot fetch signing keys from {url}: {source}")]
    Fetch {
        /// The JWKS URL.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
}

/// Verifies token signatures with keys fetched from `{aad_url}/common/discovery/keys`,
/// cached by `kid` and refetched once when a token names an unknown `kid`.
pub struct TokenVerifier {
    source: Option<(reqwest::Client, String)>,
    keys: RwLock<HashMap<String, DecodingKey>>,
    fetch: tokio::sync::Mutex<()>,
    /// Tokens whose signature already checked out. A signature does not change with time, so
    /// a client presenting the same bearer token again (every SDK does, until it expires) skips
    /// the RSA verification; expiry and the other claim checks still run on every request.
    /// Shared, so a hit costs a pointer copy rather than a copy of every claim. Keyed by the
    /// whole token (over a kilobyte), so hashed with foldhash: SipHash showed in profiles.
    verified: RwLock<foldhash::HashMap<String, Arc<TokenClaims>>>,
}

/// Verified tokens kept before the cache starts over (each a few hundred bytes).
const VERIFIED_CAPACITY: usize = 10_000;

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("jwks", &self.source.as_ref().map(|(_, url)| url))
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kid: Option<String>,
    kty: String,
    n: Option<String>,
    e: Option<String>,
}

impl TokenVerifier {
    /// A verifier that trusts no issuer: every token is refused.
    #[must_use]
    pub fn none() -> Self {
        Self {
            source: None,
            keys: RwLock::new(HashMap::new()),
            fetch: tokio::sync::Mutex::new(()),
            verified: RwLock::default(),
        }
    }

    /// A verifier for the Entra (fake-aad) at `aad_url`, reached over HTTPS trusting
    /// `ca_pem` in addition to nothing else.
    pub fn new(aad_url: &str, ca_pem: Option<&str>) -> Result<Self, reqwest::Error> {
        let mut http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .use_rustls_tls();
        if let Some(pem) = ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem.as_bytes())? {
                http = http.add_root_certificate(cert);
            }
        }
        let url = format!("{}/common/discovery/keys", aad_url.trim_end_matches('/'));
        Ok(Self {
            source: Some((http.build()?, url)),
            keys: RwLock::new(HashMap::new()),
            fetch: tokio::sync::Mutex::new(()),
            verified: RwLock::default(),
        })
    }

    /// Checks the RS256 signature and returns the claims; claim semantics are the caller's.
    pub async fn verify(&self, token: &str) -> Result<Arc<TokenClaims>, TokenError> {
        if let Some(claims) = self.verified.read().expect("verified lock").get(token) {
            return Ok(Arc::clone(claims));
        }
        let claims = Arc::new(self.verify_signature(token).await?);
        let mut verified = self.verified.write().expect("verified lock");
        if verified.len() >= VERIFIED_CAPACITY {
            verified.clear();
        }
        verified.insert(token.to_owned(), Arc::clone(&claims));
        Ok(claims)
    }

    async fn verify_signature(&self, token: &str) -> Result<TokenClaims, TokenError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(TokenError::Malformed(format!("alg {:?}", header.alg)));
        }
        let kid = header.kid.unwrap_or_default();
        let key = if let Some(key) = self.cached(&kid) {
            key
        } else {
            self.refresh(&kid).await?;
            self.cached(&kid)
                .ok_or_else(|| TokenError::UnknownKey(kid.clone()))?
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<TokenClaims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| TokenError::Malformed(e.to_string()))
    }

    fn cached(&self, kid: &str) -> Option<DecodingKey> {
        self.keys.read().expect("keys lock").get(kid).cloned()
    }

    async fn refresh(&self, kid: &str) -> Result<(), TokenError> {
        let Some((http, url)) = &self.source else {
            return Err(TokenError::NoIssuer);
        };
        // One fetch at a time; a request that waited may find its key already there.
        let _guard = self.fetch.lock().await;
        if self.cached(kid).is_some() {
            return Ok(());
        }
        let fetch_error = |source| TokenError::Fetch {
            url: url.clone(),
            source,
        };
        let jwks: Jwks = http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(fetch_error)?
            .json()
            .await
            .map_err(fetch_error)?;
        let mut keys = self.keys.write().expect("keys lock");
        for jwk in jwks.keys {
            let (Some(kid), Some(n), Some(e)) = (jwk.kid, jwk.n, jwk.e) else {
                continue;
            };
            if jwk.kty != "RSA" {
                continue;
            }
            if let Ok(key) = DecodingKey::from_rsa_components(&n, &e) {
                keys.insert(kid, key);
            }
        }
        Ok(())
    }
}
