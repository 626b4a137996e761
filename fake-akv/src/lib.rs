//! `fake-akv`: an Azure Key Vault data-plane emulator that unmodified clients (the Azure SDKs,
//! External Secrets Operator, `az`) accept as `{vault}.vault.azure.net`, or under a sovereign
//! cloud's suffix (`{vault}.vault.usgovcloudapi.net`, `{vault}.vault.azure.cn`, from
//! [`fake_kit::Cloud`]): the suffix a request arrives on picks the authority and resource of its
//! 401 challenge and the audience and issuer its token must carry.
//!
//! # How the parts fit
//!
//! One HTTPS listener (`server`) serves many vaults. Every request that is not under
//! `/_emulator` goes through `dataplane`: the vault is chosen from the host
//! (`extract::RequestHost`: `{vault}.vault.azure.net` and the sovereign suffixes,
//! `{vault}.localhost[:port]`, else the default vault), injected faults fire, the bearer token is checked (`auth`: 401 challenge
//! first, then signature against fake-aad's JWKS, issuer, audience, lifetime), the path is
//! routed (`dataplane::Operation::classify`, one route table per object kind), `api-version`
//! and names are validated, the caller is authorized (`auth::rbac`: RBAC role assignments or
//! access policies), and the kind's handler (`secrets::handlers`, `keys::handlers`,
//! `certificates::handlers`, with the listings and the soft-delete lifecycle written once for
//! every kind in `kind_handlers`) reads the versioned, soft-deleting domain store (`store`)
//! and changes it through [`operations`], then shapes wire types (`secrets::wire`,
//! `keys::wire`); lists page through `paging`. Handlers see their request as a
//! `request::RequestContext`, a leaf the dataplane builds, so no handler imports the dataplane. [`operations`] hold Key Vault's rules
//! (names, documented limits, objects a certificate manages, retention and purge protection,
//! grants and revocations): the `/_emulator` routes and the harness's steps call the same
//! operations, so no caller writes what Key Vault would refuse. Every failure is an [`AkvError`], whose
//! single `IntoResponse` in `error` writes Key Vault's error body. `middleware` adds the
//! headers Key Vault sends on every response, and `audit` records each request.
//!
//! # The public surface
//!
//! Only [`operations`], [`vault`] (the configuration types), [`admin`] (the control API's wire
//! types) and [`config`] are public, with the state, the server and a few types re-exported
//! here. A caller outside the crate reads a vault's stores through [`Vault::inspect`] and
//! changes them only through an operation, so no caller can write what Key Vault would refuse.
//!
//! # Configuration and control
//!
//! Vaults come from a YAML/JSON file ([`vault::EmulatorConfig`]) and can be changed at run time
//! through [`admin`] (`/_emulator/vaults`, `/clock`, `/audit`, `/faults`). With a state file
//! ([`Settings::state_file`]) every acknowledged write is on disk before the response
//! (`persist`): each store change is recorded as it is made (the store guard of
//! `state::Vault` hands it to an append-only journal, fsynced with group commit), and
//! compaction folds the journal into a fresh snapshot. [`Snapshot::load`] reads the snapshot
//! and replays the journal, and [`AppState::from_snapshot`] starts from the result. Without a
//! state file nothing is recorded and no durability layer runs. Time is
//! [`fake_kit::Clock`], shared with fake-aad in tests, so tokens expire, soft-deleted
//! secrets are purged and a vault's `deletionDelaySeconds` window (deletes, recovers and purges
//! settling as Key Vault's do) passes without sleeping. The window is not persisted: after a
//! restart everything has settled. A vault with `serviceLimits` charges each request against
//! Key Vault's per-10-second budgets (`limits`) after authentication and answers 429
//! `Throttled` past them.
//!
//! `tests/conformance/` holds Microsoft's recordings of the real service transcribed as cases
//! the integration tests replay.
//!
//! # Scope
//!
//! Secrets in full; keys without cryptographic operations or backup (`keys`); certificates
//! (`certificates`) with real keys and X.509: self-signed create (an operation that is
//! complete by the first poll), PFX (with or without a password) and PEM import, get, list,
//! policy, soft delete, each backed by a managed key and a managed secret (a PFX without a
//! password, or PEM, with the private key) of the same name and version, with backup and
//! restore. Certificate issuers, contacts, merge and cancellation answer 405 like any unknown
//! path.

#![deny(missing_docs)]

pub mod admin;
mod audit;
mod auth;
mod certificates;
pub mod config;
mod dataplane;
mod error;
mod extract;
mod keys;
mod kind;
mod kind_handlers;
mod limits;
mod middleware;
pub mod operations;
mod paging;
mod persist;
mod reply;
mod request;
mod secrets;
mod server;
mod state;
mod store;
pub mod vault;
mod wire;

use axum::Router;

pub use audit::{AuditEntry, AuditLog};
pub use auth::token::TokenVerifier;
pub use certificates::pkcs12;
pub use error::AkvError;
pub use persist::{PersistError, Snapshot};
pub use secrets::store::{NewSecretVersion, SecretValue};
pub use server::{FakeAkv, Options, StartError};
pub use state::{AppState, FaultPlan, Settings, Vault};
pub use store::{ObjectStore, VersionUpdate};
pub use vault::{EmulatorConfig, VaultSpec};

/// The HTTPS router: `/_emulator` admin routes (for requests addressed to the fake itself),
/// everything else the Key Vault data plane.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new()
        .merge(admin::routes())
        .fallback(dataplane::handle)
        // Around every route: not even a 405 may tell a caller under a vault's host name that
        // a control route exists.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            admin_only_locally,
        ));
    // In memory there is nothing to wait for: no layer, no boxed future per request.
    if state.is_durable() {
        router = router.layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::durable_writes,
        ));
    }
    router
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::common_headers,
        ))
        .layer(axum::middleware::from_fn(middleware::request_size))
        .with_state(state)
}

/// A control request under a vault's host name is a data-plane request for a path Key Vault
/// does not serve, and gets exactly that answer (`fake_kit::control`).
async fn admin_only_locally(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if !fake_kit::control::is_control_path(request.uri().path())
        || fake_kit::control::addressed_locally(&request)
    {
        next.run(request).await
    } else {
        axum::handler::Handler::call(dataplane::handle, request, state).await
    }
}
