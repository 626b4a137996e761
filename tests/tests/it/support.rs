//! Fixtures shared by the modules: directories to start the fake with, the test timeout, and
//! the client environments as async calls.

use std::ffi::OsStr;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use e2e::{Aad, ClientOutcome, run_client};
use fake_aad::Directory;
use fake_aad::directory::{App, ClientSecret, Tenant};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

/// Bound on the client part of a test (process start, imports, TLS, token round trips).
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(90);

/// Bound on building a client environment; a cold `pip install` downloads ~15 packages.
pub const BUILD_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs `test` under [`CLIENT_TIMEOUT`].
pub async fn within<T>(test: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::time::timeout(CLIENT_TIMEOUT, test)
        .await
        .with_context(|| format!("test did not finish within {CLIENT_TIMEOUT:?}"))?
}

/// The pinned Python interpreter, built off the async runtime under [`BUILD_TIMEOUT`].
pub async fn python() -> Result<PathBuf> {
    let build = tokio::task::spawn_blocking(e2e::python);
    tokio::time::timeout(BUILD_TIMEOUT, build)
        .await
        .context("building the Python venv timed out")??
}

/// The pinned `node_modules`, built off the async runtime under [`BUILD_TIMEOUT`].
pub async fn node_modules() -> Result<PathBuf> {
    let build = tokio::task::spawn_blocking(e2e::node_modules);
    tokio::time::timeout(BUILD_TIMEOUT, build)
        .await
        .context("installing the Node packages timed out")??
}

/// The ids of the standard fixture: one tenant with one app that has a client secret.
#[derive(Clone, Debug)]
pub struct Ids {
    pub tenant: Uuid,
    pub app_id: Uuid,
    pub object_id: Uuid,
    pub secret: String,
}

impl Ids {
    pub fn new() -> Self {
        Self {
            tenant: Uuid::new_v4(),
            app_id: Uuid::new_v4(),
            object_id: Uuid::new_v4(),
            secret: format!("e2e~{}", Uuid::new_v4().simple()),
        }
    }

    /// A directory holding the tenant and the app with its secret (valid for a year).
    pub fn directory(&self) -> Directory {
        Directory {
            tenants: vec![Tenant {
                id: self.tenant,
                display_name: "akv-e2e".into(),
                domains: vec!["akv-e2e.onmicrosoft.com".into()],
                apps: vec![App {
                    app_id: self.app_id,
                    object_id: self.object_id,
                    display_name: "e2e-app".into(),
                    secrets: vec![ClientSecret {
                        key_id: Uuid::new_v4(),
                        value: self.secret.clone(),
                        start: None,
                        end: Some(OffsetDateTime::now_utc() + time::Duration::days(365)),
                    }],
                    certificates: vec![],
                    federated_credentials: vec![],
                }],
                managed_identities: vec![],
            }],
            issuers: vec![],
            default_managed_identity: None,
        }
    }
}

/// The app of the standard fixture, for changes before the fake starts.
pub fn app(directory: &mut Directory) -> &mut App {
    &mut directory.tenants[0].apps[0]
}

/// Base variables for a client script: trust the fake, and the fixture's tenant, app and secret.
pub fn client_env(aad: &Aad, ids: &Ids) -> Vec<(String, String)> {
    let mut env = aad.trust_env();
    env.extend([
        ("AKV_E2E_AUTHORITY".into(), aad.url()),
        ("AKV_E2E_TENANT".into(), ids.tenant.to_string()),
        ("AKV_E2E_CLIENT_ID".into(), ids.app_id.to_string()),
        ("AKV_E2E_SECRET".into(), ids.secret.clone()),
        // Keep the source tree free of __pycache__.
        ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
    ]);
    env
}

/// Sets `name` in `env`, replacing an earlier value.
pub fn set(env: &mut Vec<(String, String)>, name: &str, value: impl Into<String>) {
    env.retain(|(k, _)| k != name);
    env.push((name.to_owned(), value.into()));
}

/// Runs `tests/py/get_token.py <flow>` with the pinned interpreter.
pub async fn python_flow(flow: &str, env: &[(String, String)]) -> Result<ClientOutcome> {
    let python = python().await?;
    let script = e2e::python::scripts_dir().join("get_token.py");
    within(run_client(
        &python,
        [script.as_os_str(), OsStr::new(flow)],
        env,
    ))
    .await
}

/// Verifies `token`'s signature with the keys the tenant's discovery document points to, and
/// its v1 issuer and Key Vault audience; returns its claims.
pub async fn verify_with_discovered_jwks(aad: &Aad, tenant: Uuid, token: &str) -> Result<Value> {
    let http = aad.http()?;
    let discovery: Value = http
        .get(format!(
            "{}/{tenant}/v2.0/.well-known/openid-configuration",
            aad.url()
        ))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let jwks_uri = discovery["jwks_uri"]
        .as_str()
        .context("discovery document without jwks_uri")?;
    let jwks: JwkSet = http
        .get(jwks_uri)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let header = jsonwebtoken::decode_header(token)?;
    let kid = header.kid.context("token header without kid")?;
    let jwk = jwks
        .find(&kid)
        .with_context(|| format!("kid {kid} not in the JWKS at {jwks_uri}"))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["https://vault.azure.net"]);
    validation.set_issuer(&[format!("https://sts.windows.net/{tenant}/")]);
    let data = jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk)?, &validation)?;
    Ok(data.claims)
}
