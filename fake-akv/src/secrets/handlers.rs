//! One function per secret operation: read the request, call the store, shape the wire body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::SecretOperation;
use super::store::SecretValue;
use super::wire::{
    BackupBlob, DeletedSecretBundle, DeletedSecretItem, SecretBundle, SecretItem,
    SecretSetParameters, SecretUpdateParameters,
};
use crate::dataplane::RequestContext;
use crate::error::AkvError;
use crate::extract::json_body;
use crate::kind::ObjectKind;
use crate::operations::Purge;
use crate::reply;
use crate::state::StoreGuard;
use crate::store::VersionOrder;

/// Runs `operation`.
pub fn dispatch(
    cx: &RequestContext<'_>,
    operation: SecretOperation,
    body: &[u8],
) -> Result<Response, AkvError> {
    use SecretOperation as Op;
    match operation {
        Op::GetSecrets => get_secrets(cx),
        Op::SetSecret(name) => set_secret(cx, &name, body),
        Op::DeleteSecret(name) => delete_secret(cx, &name),
        Op::GetSecret(name, version) => get_secret(cx, &name, version.as_deref()),
        Op::UpdateSecret(name, version) => update_secret(cx, &name, version.as_deref(), body),
        Op::GetSecretVersions(name) => get_secret_versions(cx, &name),
        Op::BackupSecret(name) => backup_secret(cx, &name),
        Op::RestoreSecret => restore_secret(cx, body),
        Op::GetDeletedSecrets => get_deleted_secrets(cx),
        Op::GetDeletedSecret(name) => get_deleted_secret(cx, &name),
        Op::PurgeDeletedSecret(name) => purge_deleted_secret(cx, &name),
        Op::RecoverDeletedSecret(name) => recover_deleted_secret(cx, &name),
    }
}

/// `SetSecret`.
pub fn set_secret(cx: &RequestContext<'_>, name: &str, body: &[u8]) -> Result<Response, AkvError> {
    let params: SecretSetParameters = json_body(body)?;
    let Some(value) = params.value.clone() else {
        // Unrecorded wording; the swagger marks `value` required.
        return Err(AkvError::BadParameter(
            "The parameter 'value' is required.".to_owned(),
        ));
    };
    let (secret, version) = cx
        .vault
        .set_secret(name, params.into_domain(value), cx.now)
        .map_err(cx.refused(ObjectKind::Secrets))?;
    Ok(reply::ok(&SecretBundle::from_domain(
        &secret,
        &version,
        &cx.id_base(),
        cx.recovery(),
        true,
    )))
}

/// `GetSecret`: latest when `version` is `None` (also for `/secrets/{name}/`).
pub fn get_secret(
    cx: &RequestContext<'_>,
    name: &str,
    version: Option<&str>,
) -> Result<Response, AkvError> {
    let (secret, found) = cx
        .vault
        .secrets()
        .get(name, version)
        .map_err(cx.refused(ObjectKind::Secrets))?;
    Ok(reply::ok(
        &SecretBundle::from_domain(&secret, &found, &cx.id_base(), cx.recovery(), true)
            .managed(cx.vault.holds_certificate(name)),
    ))
}

/// `UpdateSecret`: answers without `value` (§2.5).
pub fn update_secret(
    cx: &RequestContext<'_>,
    name: &str,
    version: Option<&str>,
    body: &[u8],
) -> Result<Response, AkvError> {
    let params: SecretUpdateParameters = json_body(body)?;
    let (update, content_type) = params.into_domain();
    let (secret, found) = cx
        .vault
        .update_secret(name, version, update, content_type, cx.now)
        .map_err(cx.refused(ObjectKind::Secrets))?;
    Ok(reply::ok(
        &SecretBundle::from_domain(&secret, &found, &cx.id_base(), cx.recovery(), false)
            .managed(cx.vault.holds_certificate(name)),
    ))
}

/// `GetSecrets`: base ids, latest version's attributes, name order.
pub fn get_secrets(cx: &RequestContext<'_>) -> Result<Response, AkvError> {
    let paging = cx.page_request()?;
    let base = cx.id_base();
    let recovery = cx.recovery();
    let managed = cx.vault.certificate_names();
    let items: Vec<(String, SecretItem)> = cx
        .vault
        .secrets()
        .listed()
        .map(|s| {
            let key = s.name.to_ascii_lowercase();
            let item = SecretItem::latest(s, &base, recovery).managed(managed.contains(&key));
            (key, item)
        })
        .collect();
    Ok(reply::ok(&paging.page(items, &cx.link_base("/secrets"))))
}

/// `GetSecretVersions`: versioned ids in version-id order; 200 with an empty page for an
/// unknown secret.
pub fn get_secret_versions(cx: &RequestContext<'_>, name: &str) -> Result<Response, AkvError> {
    let paging = cx.page_request()?;
    let base = cx.id_base();
    let recovery = cx.recovery();
    let (display, (versions, more)) = {
        let store = cx.vault.secrets();
        let display = store.display_name(name).unwrap_or_else(|| name.to_owned());
        // Key Vault lists versions by version id, not by creation (`test_list_versions[7.6].json`).
        let page = store.versions_page(name, VersionOrder::ById, paging.marker(), paging.size());
        (display, page)
    };
    let managed = cx.vault.holds_certificate(name);
    let items: Vec<(String, SecretItem)> = versions
        .into_iter()
        .map(|(key, v)| {
            let item = SecretItem::version(&display, &v, &base, recovery).managed(managed);
            (key, item)
        })
        .collect();
    Ok(reply::ok(&paging.cut_page(
        items,
        more,
        &cx.link_base(&format!("/secrets/{name}/versions")),
    )))
}

/// `DeleteSecret`: soft delete, answered with the deleted bundle.
pub fn delete_secret(cx: &RequestContext<'_>, name: &str) -> Result<Response, AkvError> {
    let deleted = cx
        .vault
        .delete::<SecretValue>(name, cx.now)
        .map_err(cx.refused(ObjectKind::Secrets))?;
    Ok(reply::ok(&DeletedSecretBundle::from_domain(
        &deleted,
        &cx.id_base(),
        cx.recovery(),
    )))
}

fn swept<'a>(cx: &RequestContext<'a>) -> StoreGuard<'a, SecretValue> {
    let mut store = cx.vault.secrets();
    store.sweep(cx.now);
    store
}

/// `GetDeletedSecret`: a disabled secret stays unreadable once deleted.
pub fn get_deleted_secret(cx: &RequestContext<'_>, name: &str) -> Result<Response, AkvError> {
    let deleted = swept(cx)
        .deleted(name)
        .map_err(cx.refused(ObjectKind::Secrets))?;
    if !deleted.object.latest().enabled {
        return Err(AkvError::AccessDenied);
    }
    Ok(reply::ok(&DeletedSecretBundle::from_domain(
        &deleted,
        &cx.id_base(),
        cx.recovery(),
    )))
}

/// `GetDeletedSecrets`.
pub fn get_deleted_secrets(cx: &RequestContext<'_>) -> Result<Response, AkvError> {
    let paging = cx.page_request()?;
    let base = cx.id_base();
    let recovery = cx.recovery();
    let items: Vec<(String, DeletedSecretItem)> = swept(cx)
        .listed_deleted()
        .map(|d| {
            (
                d.object.name.to_ascii_lowercase(),
                DeletedSecretItem::from_domain(d, &base, recovery),
            )
        })
        .collect();
    Ok(reply::ok(
        &paging.page(items, &cx.link_base("/deletedsecrets")),
    ))
}

/// `RecoverDeletedSecret`: answers the latest version without `value`.
pub fn recover_deleted_secret(cx: &RequestContext<'_>, name: &str) -> Result<Response, AkvError> {
    let secret = cx
        .vault
        .recover::<SecretValue>(name, cx.now)
        .map_err(cx.refused(ObjectKind::Secrets))?;
    Ok(reply::ok(&SecretBundle::from_domain(
        &secret.name,
        secret.latest(),
        &cx.id_base(),
        cx.recovery(),
        false,
    )))
}

/// `PurgeDeletedSecret`: 204 with no body.
pub fn purge_deleted_secret(cx: &RequestContext<'_>, name: &str) -> Result<Response, AkvError> {
    cx.vault
        .purge::<SecretValue>(name, cx.now, Purge::AsUser)
        .map_err(cx.refused(ObjectKind::Secrets))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `BackupSecret`.
pub fn backup_secret(cx: &RequestContext<'_>, name: &str) -> Result<Response, AkvError> {
    let secret = cx
        .vault
        .secrets()
        .object(name)
        .map_err(cx.refused(ObjectKind::Secrets))?;
    Ok(reply::ok(&BackupBlob {
        value: Some(cx.state.backup_key().seal(&secret)),
    }))
}

/// `RestoreSecret`: answers the latest version without `value`.
pub fn restore_secret(cx: &RequestContext<'_>, body: &[u8]) -> Result<Response, AkvError> {
    let params: BackupBlob = json_body(body)?;
    let Some(blob) = params.value else {
        return Err(AkvError::BadParameter(
            "The parameter 'value' is required.".to_owned(),
        ));
    };
    let secret = cx
        .state
        .backup_key()
        .open(&blob)
        .ok_or(AkvError::MalformedBackupBlob)?;
    let restored = cx
        .vault
        .secrets()
        .restore(secret, cx.now)
        .map_err(cx.refused(ObjectKind::Secrets))?;
    Ok(reply::ok(&SecretBundle::from_domain(
        &restored.name,
        restored.latest(),
        &cx.id_base(),
        cx.recovery(),
        false,
    )))
}
