//! One function per key operation: read the request, call the store, shape the wire body.

use axum::response::Response;

use super::KeyOperation;
use super::store::{DeletedKey, Key, KeyMaterial, KeyVersion, NewKeyVersion, generate};
use super::wire::{
    DeletedKeyBundle, DeletedKeyItem, KeyBundle, KeyCreateParameters, KeyImportParameters, KeyItem,
    KeyUpdateParameters,
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
    operation: KeyOperation,
    body: &[u8],
) -> Result<Response, AkvError> {
    use KeyOperation as Op;
    match operation {
        Op::GetKeys => kind_handlers::list::<KeyMaterial>(cx),
        Op::CreateKey(name) => create_key(cx, &name, body),
        Op::ImportKey(name) => import_key(cx, &name, body),
        Op::DeleteKey(name) => kind_handlers::delete::<KeyMaterial>(cx, &name),
        Op::GetKey(name, version) => get_key(cx, &name, version.as_deref()),
        Op::UpdateKey(name, version) => update_key(cx, &name, version.as_deref(), body),
        Op::GetKeyVersions(name) => kind_handlers::versions::<KeyMaterial>(cx, &name),
        Op::GetDeletedKeys => kind_handlers::list_deleted::<KeyMaterial>(cx),
        Op::GetDeletedKey(name) => kind_handlers::get_deleted::<KeyMaterial>(cx, &name),
        Op::PurgeDeletedKey(name) => kind_handlers::purge::<KeyMaterial>(cx, &name),
        Op::RecoverDeletedKey(name) => kind_handlers::recover::<KeyMaterial>(cx, &name),
    }
}

fn bundle(cx: &RequestContext<'_>, name: &str, version: &super::store::KeyVersion) -> Response {
    reply::ok(
        &KeyBundle::from_domain(name, version, &cx.id_base(), cx.recovery())
            .managed(cx.vault.holds_certificate(name)),
    )
}

fn store_new(
    cx: &RequestContext<'_>,
    name: &str,
    new: NewKeyVersion,
) -> Result<Response, AkvError> {
    let (key, version) = cx
        .vault
        .keys()
        .set(name, new, cx.now)
        .map_err(cx.refused(ObjectKind::Keys))?;
    Ok(bundle(cx, &key, &version))
}

/// `CreateKey`.
pub fn create_key(cx: &RequestContext<'_>, name: &str, body: &[u8]) -> Result<Response, AkvError> {
    cx.vault
        .refuse_managed(name, "create", ObjectKind::Keys)
        .map_err(cx.refused(ObjectKind::Keys))?;
    let params: KeyCreateParameters = json_body(body)?;
    let Some(kty) = params.kty else {
        return Err(AkvError::BadParameter(
            "The parameter 'kty' is required.".to_owned(),
        ));
    };
    let material = generate(&kty, params.key_size, params.crv.as_deref(), params.key_ops)
        .map_err(|e| AkvError::BadParameter(e.to_string()))?;
    let attributes = params.attributes.unwrap_or_default();
    store_new(
        cx,
        name,
        NewKeyVersion {
            payload: material,
            tags: params.tags,
            enabled: attributes.enabled,
            not_before: attributes.nbf,
            expires: attributes.exp,
        },
    )
}

/// `ImportKey`: the public parts of the JWK are kept; private parts are discarded.
pub fn import_key(cx: &RequestContext<'_>, name: &str, body: &[u8]) -> Result<Response, AkvError> {
    cx.vault
        .refuse_managed(name, "import", ObjectKind::Keys)
        .map_err(cx.refused(ObjectKind::Keys))?;
    let params: KeyImportParameters = json_body(body)?;
    let material = params
        .key
        .and_then(|k| k.into_material(params.hsm.unwrap_or(false)))
        .ok_or_else(|| {
            AkvError::BadParameter(
                "The parameter 'key' must be a JSON Web Key of type RSA or EC with its public components."
                    .to_owned(),
            )
        })?;
    let attributes = params.attributes.unwrap_or_default();
    store_new(
        cx,
        name,
        NewKeyVersion {
            payload: material,
            tags: params.tags,
            enabled: attributes.enabled,
            not_before: attributes.nbf,
            expires: attributes.exp,
        },
    )
}

/// `GetKey`. Unlike secrets, a disabled key's public part is still returned (no recording
/// shows Key Vault's answer here).
pub fn get_key(
    cx: &RequestContext<'_>,
    name: &str,
    version: Option<&str>,
) -> Result<Response, AkvError> {
    let (key, found) = cx
        .vault
        .keys()
        .find(name, version)
        .map_err(cx.refused(ObjectKind::Keys))?;
    Ok(bundle(cx, &key, &found))
}

/// `UpdateKey`.
pub fn update_key(
    cx: &RequestContext<'_>,
    name: &str,
    version: Option<&str>,
    body: &[u8],
) -> Result<Response, AkvError> {
    let params: KeyUpdateParameters = json_body(body)?;
    let update = params
        .attributes
        .unwrap_or_default()
        .into_update(params.tags);
    let ops = params.key_ops;
    let (key, found) = cx
        .vault
        .keys()
        .update(
            name,
            version,
            update,
            |material| {
                if let Some(ops) = ops {
                    material.key_ops = ops;
                }
            },
            cx.now,
        )
        .map_err(cx.refused(ObjectKind::Keys))?;
    Ok(bundle(cx, &key, &found))
}

impl Served for KeyMaterial {
    const VERSION_ORDER: VersionOrder = VersionOrder::ByCreation;
    type Item = KeyItem;
    type Deleted = DeletedKeyBundle;
    type DeletedItem = DeletedKeyItem;

    fn latest_item(object: &Key, base: &str, recovery: Recovery) -> KeyItem {
        KeyItem::latest(object, base, recovery)
    }

    fn version_item(name: &str, version: &KeyVersion, base: &str, recovery: Recovery) -> KeyItem {
        KeyItem::version(name, version, base, recovery)
    }

    fn managed(item: KeyItem, managed: bool) -> KeyItem {
        item.managed(managed)
    }

    fn deleted(deleted: &DeletedKey, base: &str, recovery: Recovery) -> DeletedKeyBundle {
        DeletedKeyBundle::from_domain(deleted, base, recovery)
    }

    fn deleted_item(deleted: &DeletedKey, base: &str, recovery: Recovery) -> DeletedKeyItem {
        DeletedKeyItem::from_domain(deleted, base, recovery)
    }

    fn recovered(cx: &RequestContext<'_>, key: &Key) -> Response {
        bundle(cx, &key.name, key.latest())
    }
}
