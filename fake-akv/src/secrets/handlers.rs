//! One function per secret operation: read the request, call the store, shape the wire body.

use axum::response::Response;

use super::SecretOperation;
use super::store::{DeletedSecret, Secret, SecretValue, SecretVersion};
use super::wire::{
    BackupBlob, DeletedSecretBundle, DeletedSecretItem, SecretBundle, SecretItem,
    SecretSetParameters, SecretUpdateParameters,
};
use crate::error::AkvError;
use crate::extract::json_body;
use crate::kind::ObjectKind;
use crate::kind_handlers::{self, Served};
use crate::reply;
use crate::request::RequestContext;
use crate::store::VersionOrder;
use crate::wire::Recovery;

/// Runs `operation`.
pub fn dispatch(
    cx: &RequestContext<'_>,
    operation: SecretOperation,
    body: &[u8],
) -> Result<Response, AkvError> {
    use SecretOperation as Op;
    match operation {
        Op::GetSecrets => kind_handlers::list::<SecretValue>(cx),
        Op::SetSecret(name) => set_secret(cx, &name, body),
        Op::DeleteSecret(name) => kind_handlers::delete::<SecretValue>(cx, &name),
        Op::GetSecret(name, version) => get_secret(cx, &name, version.as_deref()),
        Op::UpdateSecret(name, version) => update_secret(cx, &name, version.as_deref(), body),
        Op::GetSecretVersions(name) => kind_handlers::versions::<SecretValue>(cx, &name),
        Op::BackupSecret(name) => backup_secret(cx, &name),
        Op::RestoreSecret => restore_secret(cx, body),
        Op::GetDeletedSecrets => kind_handlers::list_deleted::<SecretValue>(cx),
        Op::GetDeletedSecret(name) => kind_handlers::get_deleted::<SecretValue>(cx, &name),
        Op::PurgeDeletedSecret(name) => kind_handlers::purge::<SecretValue>(cx, &name),
        Op::RecoverDeletedSecret(name) => kind_handlers::recover::<SecretValue>(cx, &name),
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

impl Served for SecretValue {
    // Key Vault lists versions by version id, not by creation (`test_list_versions[7.6].json`).
    const VERSION_ORDER: VersionOrder = VersionOrder::ById;
    type Item = SecretItem;
    type Deleted = DeletedSecretBundle;
    type DeletedItem = DeletedSecretItem;

    fn latest_item(object: &Secret, base: &str, recovery: Recovery) -> SecretItem {
        SecretItem::latest(object, base, recovery)
    }

    fn version_item(
        name: &str,
        version: &SecretVersion,
        base: &str,
        recovery: Recovery,
    ) -> SecretItem {
        SecretItem::version(name, version, base, recovery)
    }

    fn managed(item: SecretItem, managed: bool) -> SecretItem {
        item.managed(managed)
    }

    fn deleted(deleted: &DeletedSecret, base: &str, recovery: Recovery) -> DeletedSecretBundle {
        DeletedSecretBundle::from_domain(deleted, base, recovery)
    }

    fn deleted_item(deleted: &DeletedSecret, base: &str, recovery: Recovery) -> DeletedSecretItem {
        DeletedSecretItem::from_domain(deleted, base, recovery)
    }

    /// The latest version, without `value`.
    fn recovered(cx: &RequestContext<'_>, secret: &Secret) -> Response {
        reply::ok(&SecretBundle::from_domain(
            &secret.name,
            secret.latest(),
            &cx.id_base(),
            cx.recovery(),
            false,
        ))
    }

    /// A disabled secret stays unreadable once deleted.
    fn readable(deleted: &DeletedSecret) -> bool {
        deleted.object.latest().enabled
    }
}
