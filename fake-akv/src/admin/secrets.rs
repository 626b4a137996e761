//! `/_emulator/vaults/{vault}/secrets`: secrets seen and changed from outside the data plane,
//! with no token and no authorization (for `harness vault` and test setup).
//!
//! Reads show the latest version even when it is disabled; a purge ignores purge protection,
//! since the operator of a test bench is not a vault user.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::handlers::{admin_error, body};
use crate::secrets::store::{NewSecretVersion, Secret, SecretValue, SecretVersion};
use crate::state::{AppState, Vault};
use crate::store::{Retention, StoreError, VersionUpdate};
use crate::vault::valid_object_name;

/// A secret as the admin API shows it: its latest version, value included.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AdminSecret {
    name: String,
    version: String,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<String>,
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<BTreeMap<String, String>>,
    created: i64,
    updated: i64,
    versions: usize,
    /// Deletion date (Unix seconds) of a soft-deleted secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted: Option<i64>,
    /// When a soft-deleted secret disappears for good.
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduled_purge: Option<i64>,
}

impl AdminSecret {
    fn new(secret: &Secret, version: &SecretVersion, deleted: Option<(i64, i64)>) -> Self {
        Self {
            name: secret.name.clone(),
            version: version.version.clone(),
            value: version.payload.value.clone(),
            content_type: version.payload.content_type.clone(),
            enabled: version.enabled,
            tags: version.tags.clone(),
            created: version.created,
            updated: version.updated,
            versions: secret.versions().len(),
            deleted: deleted.map(|(d, _)| d),
            scheduled_purge: deleted.map(|(_, p)| p),
        }
    }
}

/// `PUT .../secrets/{name}`: a new version.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct SetSecret {
    value: String,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
}

/// `PATCH .../secrets/{name}`: attributes of the latest version.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct UpdateSecret {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
}

/// The vault, settled as of now like a data-plane request's.
fn vault(state: &AppState, name: &str) -> Result<std::sync::Arc<Vault>, Response> {
    let vault = state
        .vault(name)
        .ok_or_else(|| admin_error(StatusCode::NOT_FOUND, format!("vault {name} not found")))?;
    vault.sweep(state.clock().unix());
    Ok(vault)
}

fn store_error(error: &StoreError) -> Response {
    let status = match error {
        StoreError::NotFound { .. } | StoreError::DeletionInProgress { .. } => {
            StatusCode::NOT_FOUND
        }
        StoreError::DeletedButRecoverable { .. }
        | StoreError::RestoreConflict { .. }
        | StoreError::BeingDeleted { .. }
        | StoreError::RecreateWhileBeingDeleted { .. } => StatusCode::CONFLICT,
        StoreError::Disabled | StoreError::PurgeProtected => StatusCode::FORBIDDEN,
    };
    admin_error(status, error)
}

fn checked_name(name: &str) -> Result<(), Response> {
    if valid_object_name(name) {
        Ok(())
    } else {
        Err(admin_error(
            StatusCode::BAD_REQUEST,
            format!("invalid secret name '{name}'"),
        ))
    }
}

/// Live secrets, then soft-deleted ones, each in name order.
pub(super) async fn list_secrets(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Vec<AdminSecret>>, Response> {
    let vault = vault(&state, &name)?;
    let store = vault.secrets();
    let live = store.list().map(|s| AdminSecret::new(s, s.latest(), None));
    let deleted = store.list_deleted().map(|d| {
        AdminSecret::new(
            &d.object,
            d.object.latest(),
            Some((d.deleted_date, d.scheduled_purge_date)),
        )
    });
    Ok(Json(live.chain(deleted).collect()))
}

pub(super) async fn get_secret(
    State(state): State<AppState>,
    Path((vault_name, name)): Path<(String, String)>,
) -> Result<Json<AdminSecret>, Response> {
    let vault = vault(&state, &vault_name)?;
    let store = vault.secrets();
    if let Ok(secret) = store.object(&name) {
        return Ok(Json(AdminSecret::new(&secret, secret.latest(), None)));
    }
    let deleted = store.deleted(&name).map_err(|e| store_error(&e))?;
    Ok(Json(AdminSecret::new(
        &deleted.object,
        deleted.object.latest(),
        Some((deleted.deleted_date, deleted.scheduled_purge_date)),
    )))
}

pub(super) async fn set_secret(
    State(state): State<AppState>,
    Path((vault_name, name)): Path<(String, String)>,
    set: Result<Json<SetSecret>, JsonRejection>,
) -> Result<Json<AdminSecret>, Response> {
    let set = body(set)?;
    checked_name(&name)?;
    let vault = vault(&state, &vault_name)?;
    let now = state.clock().unix();
    let mut store = vault.secrets();
    let (name, version) = store
        .set(
            &name,
            NewSecretVersion {
                payload: SecretValue {
                    value: set.value,
                    content_type: set.content_type,
                },
                tags: set.tags,
                ..NewSecretVersion::default()
            },
            now,
        )
        .map_err(|e| store_error(&e))?;
    let secret = store.object(&name).map_err(|e| store_error(&e))?;
    Ok(Json(AdminSecret::new(&secret, &version, None)))
}

pub(super) async fn update_secret(
    State(state): State<AppState>,
    Path((vault_name, name)): Path<(String, String)>,
    update: Result<Json<UpdateSecret>, JsonRejection>,
) -> Result<Json<AdminSecret>, Response> {
    let update = body(update)?;
    let vault = vault(&state, &vault_name)?;
    let now = state.clock().unix();
    let mut store = vault.secrets();
    let (name, version) = store
        .update(
            &name,
            None,
            VersionUpdate {
                tags: update.tags,
                enabled: update.enabled,
                ..VersionUpdate::default()
            },
            |_| {},
            now,
        )
        .map_err(|e| store_error(&e))?;
    let secret = store.object(&name).map_err(|e| store_error(&e))?;
    Ok(Json(AdminSecret::new(&secret, &version, None)))
}

/// Soft-deletes, with the vault's retention.
pub(super) async fn delete_secret(
    State(state): State<AppState>,
    Path((vault_name, name)): Path<(String, String)>,
) -> Result<Json<AdminSecret>, Response> {
    let vault = vault(&state, &vault_name)?;
    let now = state.clock().unix();
    let deleted = vault
        .secrets()
        .delete(&name, now, vault.retention())
        .map_err(|e| store_error(&e))?;
    Ok(Json(AdminSecret::new(
        &deleted.object,
        deleted.object.latest(),
        Some((deleted.deleted_date, deleted.scheduled_purge_date)),
    )))
}

/// Purges a soft-deleted secret, purge protection or not.
pub(super) async fn purge_secret(
    State(state): State<AppState>,
    Path((vault_name, name)): Path<(String, String)>,
) -> Response {
    let vault = match vault(&state, &vault_name) {
        Ok(vault) => vault,
        Err(response) => return response,
    };
    let now = state.clock().unix();
    let retention = Retention {
        purge_protection: false,
        ..vault.retention()
    };
    match vault.secrets().purge(&name, now, retention) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => store_error(&e),
    }
}
