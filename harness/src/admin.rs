//! A client for the `/_emulator` admin APIs of a running `harness serve`, found through the
//! `serve.json` it writes into its state directory. The CLI's `vault`, `aad` and `audit`
//! commands are thin printers over it.

use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::serve::{ServeError, ServeInfo};

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

    async fn call(
        &self,
        base: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, AdminError> {
        let url = format!("{base}/_emulator{path}");
        let mut request = self.http.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
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
        Ok(value)
    }

    async fn akv(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, AdminError> {
        self.call(&self.info.akv_url, method, path, body).await
    }

    async fn aad(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, AdminError> {
        self.call(&self.info.aad_url, method, path, body).await
    }

    /// Adds a version of `name` in `vault`.
    pub async fn set_secret(
        &self,
        vault: &str,
        name: &str,
        value: &str,
    ) -> Result<Value, AdminError> {
        self.akv(
            Method::PUT,
            &format!("/vaults/{vault}/secrets/{name}"),
            Some(json!({ "value": value })),
        )
        .await
    }

    /// The latest version of `name` (live, or soft-deleted with its dates).
    pub async fn get_secret(&self, vault: &str, name: &str) -> Result<Value, AdminError> {
        self.akv(
            Method::GET,
            &format!("/vaults/{vault}/secrets/{name}"),
            None,
        )
        .await
    }

    /// Every secret of `vault`, live then soft-deleted.
    pub async fn list_secrets(&self, vault: &str) -> Result<Vec<Value>, AdminError> {
        let list = self
            .akv(Method::GET, &format!("/vaults/{vault}/secrets"), None)
            .await?;
        Ok(list.as_array().cloned().unwrap_or_default())
    }

    /// Soft-deletes `name`.
    pub async fn delete_secret(&self, vault: &str, name: &str) -> Result<Value, AdminError> {
        self.akv(
            Method::DELETE,
            &format!("/vaults/{vault}/secrets/{name}"),
            None,
        )
        .await
    }

    /// Enables or disables the latest version of `name`.
    pub async fn enable_secret(
        &self,
        vault: &str,
        name: &str,
        enabled: bool,
    ) -> Result<Value, AdminError> {
        self.akv(
            Method::PATCH,
            &format!("/vaults/{vault}/secrets/{name}"),
            Some(json!({ "enabled": enabled })),
        )
        .await
    }

    /// Purges a soft-deleted `name` (purge protection does not apply to the operator).
    pub async fn purge_secret(&self, vault: &str, name: &str) -> Result<(), AdminError> {
        self.akv(
            Method::DELETE,
            &format!("/vaults/{vault}/deletedsecrets/{name}"),
            None,
        )
        .await
        .map(drop)
    }

    /// The tenant holding the app `app_id` (application or object id).
    async fn tenant_of(&self, app_id: &str) -> Result<(String, String), AdminError> {
        let directory = self.aad(Method::GET, "/directory", None).await?;
        directory["tenants"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|tenant| {
                tenant["apps"].as_array()?.iter().find_map(|app| {
                    let matches = [&app["appId"], &app["objectId"]].iter().any(|id| {
                        id.as_str()
                            .is_some_and(|id| id.eq_ignore_ascii_case(app_id))
                    });
                    matches.then(|| {
                        (
                            tenant["id"].as_str().unwrap_or_default().to_owned(),
                            app["appId"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                })
            })
            .ok_or_else(|| AdminError::NotFound(format!("no app {app_id} in the directory")))
    }

    /// Adds a client secret to an app (a generated value unless `value` is given).
    pub async fn add_app_secret(
        &self,
        app: &str,
        value: Option<&str>,
    ) -> Result<Value, AdminError> {
        let (tenant, app) = self.tenant_of(app).await?;
        let body = value.map_or_else(|| json!({}), |v| json!({ "value": v }));
        self.aad(
            Method::POST,
            &format!("/tenants/{tenant}/apps/{app}/secrets"),
            Some(body),
        )
        .await
    }

    /// Expires an app's client secrets now (one when `key` is given, else all); returns the
    /// key ids expired.
    pub async fn expire_app_secrets(
        &self,
        app: &str,
        key: Option<Uuid>,
    ) -> Result<Vec<String>, AdminError> {
        let (tenant, app_id) = self.tenant_of(app).await?;
        let directory = self.aad(Method::GET, "/directory", None).await?;
        let secrets: Vec<String> = directory["tenants"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["id"] == tenant.as_str())
            .flat_map(|t| t["apps"].as_array().cloned().unwrap_or_default())
            .filter(|a| a["appId"] == app_id.as_str())
            .flat_map(|a| a["secrets"].as_array().cloned().unwrap_or_default())
            .filter_map(|s| s["keyId"].as_str().map(str::to_owned))
            .filter(|id| key.is_none_or(|k| k.to_string().eq_ignore_ascii_case(id)))
            .collect();
        if secrets.is_empty() {
            return Err(AdminError::NotFound(format!(
                "app {app} has no such secret"
            )));
        }
        let clock = self.aad(Method::GET, "/clock", None).await?;
        let now = clock["now"].as_i64().unwrap_or_default();
        let end = time::OffsetDateTime::from_unix_timestamp(now - 1)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
            .format(&time::format_description::well_known::Rfc3339)
            .expect("a timestamp formats as RFC 3339");
        for key in &secrets {
            self.aad(
                Method::PATCH,
                &format!("/tenants/{tenant}/apps/{app_id}/secrets/{key}"),
                Some(json!({ "end": end })),
            )
            .await?;
        }
        Ok(secrets)
    }

    /// Gives `principal` `role` on `vault` at `scope` (RBAC vaults); returns the assignment id.
    pub async fn grant(
        &self,
        vault: &str,
        principal: Uuid,
        role: &str,
        scope: &str,
    ) -> Result<String, AdminError> {
        let mut spec = self
            .akv(Method::GET, &format!("/vaults/{vault}"), None)
            .await?;
        let id = Uuid::new_v4();
        let assignment = json!({
            "id": id, "principalId": principal, "role": role, "scope": scope,
        });
        match spec
            .get_mut("roleAssignments")
            .and_then(Value::as_array_mut)
        {
            Some(list) => list.push(assignment),
            None => spec["roleAssignments"] = json!([assignment]),
        }
        self.akv(Method::PUT, &format!("/vaults/{vault}"), Some(spec))
            .await?;
        Ok(id.to_string())
    }

    /// Removes `principal`'s assignments of `role` on `vault` (at `scope`, if given); returns
    /// how many were removed.
    pub async fn revoke(
        &self,
        vault: &str,
        principal: Uuid,
        role: &str,
        scope: Option<&str>,
    ) -> Result<usize, AdminError> {
        let mut spec = self
            .akv(Method::GET, &format!("/vaults/{vault}"), None)
            .await?;
        let Some(list) = spec
            .get_mut("roleAssignments")
            .and_then(Value::as_array_mut)
        else {
            return Err(AdminError::NotFound(format!(
                "{vault} has no role assignments"
            )));
        };
        let before = list.len();
        let principal = principal.to_string();
        list.retain(|a| {
            !(a["principalId"].as_str() == Some(principal.as_str())
                && a["role"]
                    .as_str()
                    .is_some_and(|r| r.eq_ignore_ascii_case(role))
                && scope.is_none_or(|s| a["scope"] == s))
        });
        let removed = before - list.len();
        if removed == 0 {
            return Err(AdminError::NotFound(format!(
                "{principal} holds no {role} on {vault}"
            )));
        }
        self.akv(Method::PUT, &format!("/vaults/{vault}"), Some(spec))
            .await?;
        Ok(removed)
    }

    /// fake-aad's audit entries after `since` (a sequence number).
    pub async fn aad_audit(&self, since: u64) -> Result<Vec<Value>, AdminError> {
        let list = self
            .aad(Method::GET, &format!("/audit?since={since}"), None)
            .await?;
        Ok(list.as_array().cloned().unwrap_or_default())
    }

    /// fake-akv's audit entries after `since` (a sequence number).
    pub async fn akv_audit(&self, since: u64) -> Result<Vec<Value>, AdminError> {
        let list = self
            .akv(Method::GET, &format!("/audit?since={since}"), None)
            .await?;
        Ok(list.as_array().cloned().unwrap_or_default())
    }
}
