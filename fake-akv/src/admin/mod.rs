//! The control plane under `/_emulator` (a prefix Key Vault never uses): vaults, clock,
//! audit log, fault injection, each vault's secrets (value included, no token) and who may
//! use them (grants and revocations).
//! Unauthenticated, like fake-aad's.

mod access;
mod handlers;
mod secrets;

pub use access::{GrantReply, RevokeReply};
pub use secrets::{AdminSecret, SetSecret, UpdateSecret};

use axum::Router;
use axum::routing::{delete, get, post};

use crate::state::AppState;

/// Routes under `/_emulator`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/_emulator/vaults",
            get(handlers::list_vaults).post(handlers::put_vault),
        )
        .route(
            "/_emulator/vaults/{name}",
            get(handlers::get_vault)
                .put(handlers::put_named_vault)
                .delete(handlers::delete_vault),
        )
        .route("/_emulator/vaults/{name}/access/grant", post(access::grant))
        .route(
            "/_emulator/vaults/{name}/access/revoke",
            post(access::revoke),
        )
        .route(
            "/_emulator/vaults/{name}/secrets",
            get(secrets::list_secrets),
        )
        .route(
            "/_emulator/vaults/{name}/secrets/{secret}",
            get(secrets::get_secret)
                .put(secrets::set_secret)
                .patch(secrets::update_secret)
                .delete(secrets::delete_secret),
        )
        .route(
            "/_emulator/vaults/{name}/deletedsecrets/{secret}",
            delete(secrets::purge_secret),
        )
        .route(
            "/_emulator/defaultVault",
            get(handlers::get_default_vault).put(handlers::put_default_vault),
        )
        .route(
            "/_emulator/clock",
            get(handlers::get_clock).post(handlers::move_clock),
        )
        .route("/_emulator/audit", get(handlers::get_audit))
        .route(
            "/_emulator/faults",
            get(handlers::get_faults)
                .put(handlers::put_faults)
                .delete(handlers::clear_faults),
        )
}
