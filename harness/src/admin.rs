//! A client for the `/_emulator` admin APIs of a running `harness serve`, found through the
//! `serve.json` it writes into its state directory. The CLI's `vault`, `aad` and `audit`
//! commands are thin printers over it.

use std::path::{Path, PathBuf};

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use crate::serve::{ServeError, ServeInfo};
use fake_aad::directory::{ClientSecret, Directory};
use fake_aad::operations::{NewClientSecret, SecretSelector};
use fake_akv::admin::{AdminSecret, GrantReply, RevokeReply, SetSecret, UpdateSecret};
use fake_akv::operations::AccessChange;

/// Why an admin call failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No bench found in the state directory (or its `serve.json` is unreadable).
    #[error("no running `harness serve` found in {state_dir}: {source}")]
    NotServing {
        /// The state directory.
        state_dir: PathBuf,
        /// Why.
        #[source]
        source: ServeError,
    },
    /// The bench did not answer.
    #[error("{url}: {source}")]
    Http {
        /// The request.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The bench answered with a body this client does not understand.
    #[error("{url}: unexpected answer: {message}")]
    Unexpected {
        /// The request.
        url: String,
        /// What did not parse.
        message: String,
    },
    /// The bench refused the request.
    #[error("{url}: {status}: {message}")]
    Refused {
        /// The request.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The fake's message.
        message: String,
    },
    /// Something asked for does not exist (an app in the directory, a role assignment).
    #[error("{0}")]
    NotFound(String),
}

/// The admin APIs of one running bench.
#[derive(Debug, Clone)]
pub struct Admin {
    info: ServeInfo,
    http: reqwest::Client,
}

impl Admin {
    /// Finds the bench serving `state_dir` and trusts its CA.
    pub fn connect(state_dir: &Path) -> Result<Self, AdminError> {
        let not_serving = |source| AdminError::NotServing {
            state_dir: state_dir.to_owned(),
            source,
        };
        let info = ServeInfo::load(state_dir).map_err(not_serving)?;
        let ca = std::fs::read(&info.ca).map_err(|source| {
            not_serving(ServeError::State {
                path: info.ca.clone(),
                source,
            })
        })?;
        let invalid = |message: String| {
            not_serving(ServeError::Invalid {
                path: info.ca.clone(),
                message,
            })
        };
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(
                reqwest::Certificate::from_pem(&ca).map_err(|e| invalid(e.to_string()))?,
            )
            .no_proxy()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Self { info, http })
    }

    /// What `serve.json` says.
    #[must_use]
    pub fn info(&self) -> &ServeInfo {
        &self.info
    }

    /// One `/_emulator` call: `body` goes as JSON, the answer (empty reads as `null`) comes
    /// back as `T`.
    async fn call<T: DeserializeOwned>(
        &self,
        base: &str,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T, AdminError> {
        let url = format!("{base}/_emulator{path}");
        let mut request = self.http.request(method, &url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let http = |source| AdminError::Http {
            url: url.clone(),
            source,
        };
        let response = request.send().await.map_err(http)?;
        let status = response.status();
        let text = response.text().await.map_err(http)?;
        let value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if !status.is_success() {
            let message = value
                .get("error")
                .and_then(|e| {
                    e.as_str()
                        .map(str::to_owned)
                        .or_else(|| Some(e.to_string()))
                })
                .unwrap_or_else(|| value.to_string());
            return Err(AdminError::Refused {
                url,
                status: status.as_u16(),
                message,
            });
        }
        serde_json::from_value(value).map_err(|e| AdminError::Unexpected {
            url,
            message: e.to_string(),
        })
    }

    /// A fake-akv admin call.
    async fn akv<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T, AdminError> {
        self.call(&self.info.akv_url, method, path, body).await
    }

    /// A fake-aad admin call.
    async fn aad<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T, AdminError> {
        self.call(&self.info.aad_url, method, path, body).await
    }

    /// Adds a version of `name` in `vault`.
    pub async fn set_secret(
        &self,
        vault: &str,
        name: &str,
        value: &str,
    ) -> Result<AdminSecret, AdminError> {
        let set = SetSecret {
            value: value.to_owned(),
            ..SetSecret::default()
        };
        self.akv(
            Method::PUT,
            &format!("/vaults/{vault}/secrets/{name}"),
            Some(&set),
        )
        .await
    }

    /// The latest version of `name` (live, or soft-deleted with its dates).
    pub async fn get_secret(&self, vault: &str, name: &str) -> Result<AdminSecret, AdminError> {
        self.akv(
            Method::GET,
            &format!("/vaults/{vault}/secrets/{name}"),
            None::<&()>,
        )
        .await
    }

    /// Every secret of `vault`, live then soft-deleted.
    pub async fn list_secrets(&self, vault: &str) -> Result<Vec<AdminSecret>, AdminError> {
        self.akv(
            Method::GET,
            &format!("/vaults/{vault}/secrets"),
            None::<&()>,
        )
        .await
    }

    /// Soft-deletes `name`.
    pub async fn delete_secret(&self, vault: &str, name: &str) -> Result<AdminSecret, AdminError> {
        self.akv(
            Method::DELETE,
            &format!("/vaults/{vault}/secrets/{name}"),
            None::<&()>,
        )
        .await
    }

    /// Enables or disables the latest version of `name`.
    pub async fn enable_secret(
        &self,
        vault: &str,
        name: &str,
        enabled: bool,
    ) -> Result<AdminSecret, AdminError> {
        let update = UpdateSecret {
            enabled: Some(enabled),
            ..UpdateSecret::default()
        };
        self.akv(
            Method::PATCH,
            &format!("/vaults/{vault}/secrets/{name}"),
            Some(&update),
        )
        .await
    }

    /// Purges a soft-deleted `name` (purge protection does not apply to the operator).
    pub async fn purge_secret(&self, vault: &str, name: &str) -> Result<(), AdminError> {
        self.akv(
            Method::DELETE,
            &format!("/vaults/{vault}/deletedsecrets/{name}"),
            None::<&()>,
        )
        .await
    }

    /// The tenant holding the app `app_id` (application or object id), and the app's
    /// application id.
    async fn tenant_of(&self, app_id: &str) -> Result<(Uuid, Uuid), AdminError> {
        let directory: Directory = self.aad(Method::GET, "/directory", None::<&()>).await?;
        let same = |id: Uuid| id.to_string().eq_ignore_ascii_case(app_id);
        directory
            .tenants
            .iter()
            .find_map(|tenant| {
                tenant
                    .apps
                    .iter()
                    .find(|app| same(app.app_id) || same(app.object_id))
                    .map(|app| (tenant.id, app.app_id))
            })
            .ok_or_else(|| AdminError::NotFound(format!("no app {app_id} in the directory")))
    }

    /// Adds a client secret to an app (a generated value unless `value` is given).
    pub async fn add_app_secret(
        &self,
        app: &str,
        value: Option<&str>,
    ) -> Result<ClientSecret, AdminError> {
        let (tenant, app) = self.tenant_of(app).await?;
        let new = NewClientSecret {
            value: value.map(str::to_owned),
            end: None,
        };
        self.aad(
            Method::POST,
            &format!("/tenants/{tenant}/apps/{app}/secrets"),
            Some(&new),
        )
        .await
    }

    /// Expires an app's client secrets now, on the fakes' clock (one when `key` is given,
    /// else all); returns the key ids expired.
    pub async fn expire_app_secrets(
        &self,
        app: &str,
        key: Option<Uuid>,
    ) -> Result<Vec<Uuid>, AdminError> {
        let (tenant, app_id) = self.tenant_of(app).await?;
        let which = SecretSelector {
            key_id: key,
            value: None,
        };
        self.aad(
            Method::POST,
            &format!("/tenants/{tenant}/apps/{app_id}/secrets/expire"),
            Some(&which),
        )
        .await
    }

    /// Gives `principal` `role` on `vault` at `scope` (RBAC vaults); returns the assignment id.
    pub async fn grant(
        &self,
        vault: &str,
        principal: Uuid,
        role: &str,
        scope: &str,
    ) -> Result<String, AdminError> {
        let change = AccessChange {
            principal_id: principal,
            role: Some(role.to_owned()),
            scope: Some(scope.to_owned()),
            secrets: Vec::new(),
        };
        let granted: GrantReply = self.change_access(vault, "grant", &change).await?;
        Ok(granted
            .assignment_id
            .map(|id| id.to_string())
            .unwrap_or_default())
    }

    /// Removes `principal`'s assignments of `role` on `vault` (at `scope`, if given, else at
    /// every scope); returns how many were removed.
    pub async fn revoke(
        &self,
        vault: &str,
        principal: Uuid,
        role: &str,
        scope: Option<&str>,
    ) -> Result<usize, AdminError> {
        let change = AccessChange {
            principal_id: principal,
            role: Some(role.to_owned()),
            scope: scope.map(str::to_owned),
            secrets: Vec::new(),
        };
        let revoked: RevokeReply = self.change_access(vault, "revoke", &change).await?;
        Ok(revoked.removed)
    }

    /// One grant or revocation, applied by fake-akv's access operations.
    async fn change_access<T: DeserializeOwned>(
        &self,
        vault: &str,
        action: &str,
        change: &AccessChange,
    ) -> Result<T, AdminError> {
        self.akv(
            Method::POST,
            &format!("/vaults/{vault}/access/{action}"),
            Some(change),
        )
        .await
    }

    /// fake-aad's audit entries after `since` (a sequence number).
    pub async fn aad_audit(&self, since: u64) -> Result<Vec<Value>, AdminError> {
        self.aad(Method::GET, &format!("/audit?since={since}"), None::<&()>)
            .await
    }

    /// fake-akv's audit entries after `since` (a sequence number).
    pub async fn akv_audit(&self, since: u64) -> Result<Vec<Value>, AdminError> {
        self.akv(Method::GET, &format!("/audit?since={since}"), None::<&()>)
            .await
    }
}
