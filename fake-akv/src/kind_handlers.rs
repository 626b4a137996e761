//! The handlers every kind of object shares, written once: the listing, the versions of one
//! object, and the soft-delete lifecycle (delete, the deleted reads, recover, purge). Each kind
//! says only how its objects look on the wire ([`Served`]); the lifecycle's rules are the
//! operations' ([`crate::operations`]).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::AkvError;
use crate::operations::{Kind, Purge};
use crate::reply;
use crate::request::RequestContext;
use crate::state::StoreGuard;
use crate::store::{Deleted, Object, Version, VersionOrder};
use crate::wire::Recovery;

/// How a kind's objects look on the wire.
pub trait Served: Kind {
    /// The order `Get{Kind}Versions` lists versions in.
    const VERSION_ORDER: VersionOrder;
    /// A listing's item.
    type Item: Serialize;
    /// A deleted object's bundle.
    type Deleted: Serialize;
    /// A deleted listing's item.
    type DeletedItem: Serialize;

    /// The item for an object's latest version.
    fn latest_item(object: &Object<Self>, base: &str, recovery: Recovery) -> Self::Item;
    /// The item for one version.
    fn version_item(
        name: &str,
        version: &Version<Self>,
        base: &str,
        recovery: Recovery,
    ) -> Self::Item;
    /// Marks the item as an object a certificate manages, where the kind's wire has the mark.
    fn managed(item: Self::Item, managed: bool) -> Self::Item;
    /// The deleted object's bundle.
    fn deleted(deleted: &Deleted<Self>, base: &str, recovery: Recovery) -> Self::Deleted;
    /// The deleted object's listing item.
    fn deleted_item(deleted: &Deleted<Self>, base: &str, recovery: Recovery) -> Self::DeletedItem;
    /// The answer to a recover: the recovered object's latest version.
    fn recovered(cx: &RequestContext<'_>, object: &Object<Self>) -> Response;
    /// Whether a deleted object may be read.
    #[must_use]
    fn readable(_deleted: &Deleted<Self>) -> bool {
        true
    }
}

fn swept<'a, P: Served>(cx: &RequestContext<'a>) -> StoreGuard<'a, P> {
    let mut store = P::store(cx.vault);
    store.sweep(cx.now);
    store
}

/// `Get{Kind}s`: base ids, latest version's attributes, name order.
pub fn list<P: Served>(cx: &RequestContext<'_>) -> Result<Response, AkvError> {
    let paging = cx.page_request()?;
    let base = cx.id_base();
    let recovery = cx.recovery();
    let managed = cx.vault.certificate_names();
    let items: Vec<(String, P::Item)> = P::store(cx.vault)
        .listed()
        .map(|object| {
            let key = object.name.to_ascii_lowercase();
            let item = P::latest_item(object, &base, recovery);
            let item = P::managed(item, managed.contains(&key));
            (key, item)
        })
        .collect();
    let path = format!("/{}", P::KIND.as_str());
    Ok(reply::ok(&paging.page(items, &cx.link_base(&path))))
}

/// `Get{Kind}Versions`: 200 with an empty page for an unknown object.
pub fn versions<P: Served>(cx: &RequestContext<'_>, name: &str) -> Result<Response, AkvError> {
    let paging = cx.page_request()?;
    let base = cx.id_base();
    let recovery = cx.recovery();
    let (display, (versions, more)) = {
        let store = P::store(cx.vault);
        let display = store.display_name(name).unwrap_or_else(|| name.to_owned());
        let page = store.versions_page(name, P::VERSION_ORDER, paging.marker(), paging.size());
        (display, page)
    };
    let managed = cx.vault.holds_certificate(name);
    let items: Vec<(String, P::Item)> = versions
        .into_iter()
        .map(|(key, v)| {
            let item = P::version_item(&display, &v, &base, recovery);
            (key, P::managed(item, managed))
        })
        .collect();
    let path = format!("/{}/{name}/versions", P::KIND.as_str());
    Ok(reply::ok(&paging.cut_page(
        items,
        more,
        &cx.link_base(&path),
    )))
}

/// `Delete{Kind}`: soft delete, answered with the deleted bundle.
pub fn delete<P: Served>(cx: &RequestContext<'_>, name: &str) -> Result<Response, AkvError> {
    let deleted = cx
        .vault
        .delete::<P>(name, cx.now)
        .map_err(cx.refused(P::KIND))?;
    Ok(reply::ok(&P::deleted(
        &deleted,
        &cx.id_base(),
        cx.recovery(),
    )))
}

/// `GetDeleted{Kind}`.
pub fn get_deleted<P: Served>(cx: &RequestContext<'_>, name: &str) -> Result<Response, AkvError> {
    let deleted = swept::<P>(cx).deleted(name).map_err(cx.refused(P::KIND))?;
    if !P::readable(&deleted) {
        return Err(AkvError::AccessDenied);
    }
    Ok(reply::ok(&P::deleted(
        &deleted,
        &cx.id_base(),
        cx.recovery(),
    )))
}

/// `GetDeleted{Kind}s`.
pub fn list_deleted<P: Served>(cx: &RequestContext<'_>) -> Result<Response, AkvError> {
    let paging = cx.page_request()?;
    let base = cx.id_base();
    let recovery = cx.recovery();
    let items: Vec<(String, P::DeletedItem)> = swept::<P>(cx)
        .listed_deleted()
        .map(|d| {
            (
                d.object.name.to_ascii_lowercase(),
                P::deleted_item(d, &base, recovery),
            )
        })
        .collect();
    let path = format!("/deleted{}", P::KIND.as_str());
    Ok(reply::ok(&paging.page(items, &cx.link_base(&path))))
}

/// `RecoverDeleted{Kind}`.
pub fn recover<P: Served>(cx: &RequestContext<'_>, name: &str) -> Result<Response, AkvError> {
    let recovered = cx
        .vault
        .recover::<P>(name, cx.now)
        .map_err(cx.refused(P::KIND))?;
    Ok(P::recovered(cx, &recovered))
}

/// `PurgeDeleted{Kind}`: 204 with no body.
pub fn purge<P: Served>(cx: &RequestContext<'_>, name: &str) -> Result<Response, AkvError> {
    cx.vault
        .purge::<P>(name, cx.now, Purge::AsUser)
        .map_err(cx.refused(P::KIND))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
