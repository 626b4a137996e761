//! One function per key operation: read the request, call the store, shape the wire body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::KeyOperation;
use super::store::{KeyMaterial, NewKeyVersion, generate};
use super::wire::{
    DeletedKeyBundle, DeletedKeyItem, KeyBundle, KeyCreateParameters, KeyImportParameters, KeyItem,
    KeyUpdateParameters,
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
    operation: KeyOperation,
    body: &[u8],
) -> Result<Response, AkvError> {
    use KeyOperation as Op;
    match operation {
        Op::GetKeys => get_keys(cx),
        Op::CreateKey(name) => create_key(cx, &name, body),
        Op::ImportKey(name) => import_key(cx, &name, body),
        Op::DeleteKey(name) => delete_key(cx, &name),
        Op::GetKey(name, version) => get_key(cx, &name, version.as_deref()),
        Op::UpdateKey(name, version) => update_key(cx, &name, version.as_deref(), body),
        Op::GetKeyVersions(name) => get_key_versions(cx, &name),
        Op::GetDeletedKeys => get_deleted_keys(cx),
        Op::GetDeletedKey(name) => get_deleted_key(cx, &name),
        Op::PurgeDeletedKey(name) => purge_deleted_key(cx, &name),
        Op::RecoverDeletedKey(name) => recover_deleted_key(cx, &name),
    }
}

fn swept<'a>(cx: &RequestContext<'a>) -> StoreGuard<'a, KeyMaterial> {
    let mut store = cx.vault.keys();
    store.sweep(cx.now);
    store
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

/// `GetKeys`.
pub fn get_keys(cx: &RequestContext<'_>) -> Result<Response, AkvError> {
    let paging = cx.page_request()?;
    let base = cx.id_base();
    let recovery = cx.recovery();
    let managed = cx.vault.certificate_names();
    let items: Vec<(String, KeyItem)> = cx
        .vault
        .keys()
        .listed()
        .map(|k| {
            let key = k.name.to_ascii_lowercase();
            let item = KeyItem::latest(k, &base, recovery).managed(managed.contains(&key));
            (key, item)
        })
        .collect();
    Ok(reply::ok(&paging.page(items, &cx.link_base("/keys"))))
}

/// `GetKeyVersions`.
pub fn get_key_versions(cx: &RequestContext<'_>, name: &str) -> Result<Response, AkvError> {
    let paging = cx.page_request()?;
    let base = cx.id_base();
    let recovery = cx.recovery();
    let (display, (versions, more)) = {
        let store = cx.vault.keys();
        let display = store.display_name(name).unwrap_or_else(|| name.to_owned());
        let page = store.versions_page(
            name,
            VersionOrder::ByCreation,
            paging.marker(),
            paging.size(),
        );
        (display, page)
    };
    let managed = cx.vault.holds_certificate(name);
    let items: Vec<(String, KeyItem)> = versions
        .into_iter()
        .map(|(key, v)| {
            (
                key,
                KeyItem::version(&display, &v, &base, recovery).managed(managed),
            )
        })
        .collect();
    Ok(reply::ok(&paging.cut_page(
        items,
        more,
        &cx.link_base(&format!("/keys/{name}/versions")),
    )))
}

/// `DeleteKey`.
pub fn delete_key(cx: &RequestContext<'_>, name: &str) -> Result<Response, AkvError> {
    let deleted = cx
        .vault
        .delete::<KeyMaterial>(name, cx.now)
        .map_err(cx.refused(ObjectKind::Keys))?;
    Ok(reply::ok(&DeletedKeyBundle::from_domain(
        &deleted,
        &cx.id_base(),
        cx.recovery(),
    )))
}

/// `GetDeletedKey`.
pub fn get_deleted_key(cx: &RequestContext<'_>, name: &str) -> Result<Response, AkvError> {
    let deleted = swept(cx)
        .deleted(name)
        .map_err(cx.refused(ObjectKind::Keys))?;
    Ok(reply::ok(&DeletedKeyBundle::from_domain(
        &deleted,
        &cx.id_base(),
        cx.recovery(),
    )))
}

/// `GetDeletedKeys`.
pub fn get_deleted_keys(cx: &RequestContext<'_>) -> Result<Response, AkvError> {
    let paging = cx.page_request()?;
    let base = cx.id_base();
    let recovery = cx.recovery();
    let items: Vec<(String, DeletedKeyItem)> = swept(cx)
        .listed_deleted()
        .map(|d| {
            (
                d.object.name.to_ascii_lowercase(),
                DeletedKeyItem::from_domain(d, &base, recovery),
            )
        })
        .collect();
    Ok(reply::ok(
        &paging.page(items, &cx.link_base("/deletedkeys")),
    ))
}

/// `RecoverDeletedKey`.
pub fn recover_deleted_key(cx: &RequestContext<'_>, name: &str) -> Result<Response, AkvError> {
    let key = cx
        .vault
        .recover::<KeyMaterial>(name, cx.now)
        .map_err(cx.refused(ObjectKind::Keys))?;
    Ok(bundle(cx, &key.name, key.latest()))
}

/// `PurgeDeletedKey`: 204.
pub fn purge_deleted_key(cx: &RequestContext<'_>, name: &str) -> Result<Response, AkvError> {
    cx.vault
        .purge::<KeyMaterial>(name, cx.now, Purge::AsUser)
        .map_err(cx.refused(ObjectKind::Keys))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
