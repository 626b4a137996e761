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

use super::handlers::{admin_error, body, vault};
use crate::error::AkvError;
use crate::kind::ObjectKind;
use crate::operations::{OpError, Purge};
use crate::secrets::store::{NewSecretVersion, Secret, SecretValue, SecretVersion};
use crate::state::AppState;
use crate::store::VersionUpdate;

/// A secret as the admin API shows it: its latest version, value included.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminSecret {
    /// The name as first created.
    pub name: String,
    /// The latest version's id.
    pub version: String,
    /// Its value.
    pub value: String,
    /// Its content type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Its tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Created, Unix seconds.
    pub created: i64,
    /// Last updated, Unix seconds.
    pub updated: i64,
    /// How many versions the secret has.
    pub versions: usize,
    /// Deletion date (Unix seconds) of a soft-deleted secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<i64>,
    /// When a soft-deleted secret disappears for good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_purge: Option<i64>,
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
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetSecret {
    /// The value.
    pub value: String,
    /// Its content type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Its tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// `PATCH .../secrets/{name}`: attributes of the latest version.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateSecret {
    /// Enable or disable it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Replace its tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// The data plane's status for the same refusal, with a message for people.
fn refused(error: impl Into<OpError>) -> Response {
    let error = AkvError::from_op(error.into(), "", ObjectKind::Secrets);
    admin_error(error.parts().0, error)
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
    let deleted = store.deleted(&name).map_err(refused)?;
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
    let vault = vault(&state, &vault_name)?;
    let now = state.clock().unix();
    let (name, version) = vault
        .set_secret(
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
        .map_err(refused)?;
    let secret = vault.secrets().object(&name).map_err(refused)?;
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
    let (name, version) = vault
        .update_secret(
            &name,
            None,
            VersionUpdate {
                tags: update.tags,
                enabled: update.enabled,
                ..VersionUpdate::default()
            },
            None,
            now,
        )
        .map_err(refused)?;
    let secret = vault.secrets().object(&name).map_err(refused)?;
    Ok(Json(AdminSecret::new(&secret, &version, None)))
}

/// Soft-deletes, with the vault's retention.
pub(super) async fn delete_secret(
    State(state): State<AppState>,
    Path((vault_name, name)): Path<(String, String)>,
) -> Result<Json<AdminSecret>, Response> {
    let vault = vault(&state, &vault_name)?;
    let now = state.clock().unix();
    let deleted = vault.delete::<SecretValue>(&name, now).map_err(refused)?;
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
    match vault.purge::<SecretValue>(&name, state.clock().unix(), Purge::AsOperator) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(e),
    }
}
