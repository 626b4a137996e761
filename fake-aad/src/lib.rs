//! `fake-aad`: an Entra ID (Azure AD) emulator that unmodified clients (ESO, MSAL, adal,
//! azure-identity, `az`) accept as `login.microsoftonline.com`, or as a sovereign cloud's login
//! host (`login.microsoftonline.us`, `login.chinacloudapi.cn`, from [`fake_kit::Cloud`]): the
//! host a request arrives on picks the cloud whose instance metadata and v1 token issuer it
//! gets, and each cloud's Key Vault and ARM resources are known.
//!
//! How the parts fit:
//! - [`directory`] is the model (tenants, apps, secrets, certificates, managed identities,
//!   federated credentials, trusted issuers) and also the `--directory` file format.
//! - `token` serves `/{tenant}/oauth2/token` (v1) and `/{tenant}/oauth2/v2.0/token` (v2):
//!   one file per credential kind, all issuing v1 access tokens (`claims`) signed with a
//!   per-tenant key (`keys`).
//! - `discovery` serves the OpenID documents, MSAL's instance discovery and the JWKS.
//! - `tenant` reads the `{tenant}` segment all of them start with, as Entra does.
//! - `managed_identity` serves the IMDS and App Service token shapes on a second, plain-HTTP
//!   listener.
//! - `error` is the single place an [`AadError`] becomes Entra's JSON error body.
//! - [`operations`] are the directory changes every caller makes the same way (tenants, apps,
//!   managed identities and trusted issuers put or removed; client secrets added, expired,
//!   removed; client certificates registered; federated credentials trusted): `admin`'s routes
//!   and the harness's steps, runner and CLI all call them, and each is journaled before it
//!   returns.
//! - `admin` is the `/_emulator` control plane: directory changes, clock, audit, faults.
//! - `server` binds both listeners; [`config`] turns flags into a `server::Options`.
//!
//! Only [`directory`], [`operations`] and [`config`] are public, with the state and the server
//! re-exported here: a caller outside the crate changes the directory only through an
//! operation.

mod admin;
mod audit;
mod claims;
pub mod config;
pub mod directory;
mod discovery;
mod error;
mod keys;
mod managed_identity;
pub mod operations;
mod server;
mod state;
mod tenant;
mod token;
mod wire;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

pub use audit::{AuditEntry, AuditLog};
pub use directory::Directory;
pub use error::AadError;
pub use server::{FakeAad, Options};
pub use state::{AppState, Settings};

/// The HTTPS router: token endpoints, discovery and the admin API (for requests addressed to
/// the fake itself).
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(token::routes())
        .merge(discovery::routes())
        .merge(admin::routes())
        .method_not_allowed_fallback(only_post)
        .fallback(|| async { StatusCode::NOT_FOUND })
        // Outermost but one: not even a 405 may tell a caller under an Entra host name that a
        // control route exists.
        .layer(middleware::from_fn(admin_only_locally))
        .layer(middleware::from_fn(correlate))
        .with_state(state)
}

/// The managed-identity router, for the plain-HTTP listener.
pub fn managed_identity_router(state: AppState) -> Router {
    managed_identity::routes()
        .fallback(|| async { StatusCode::NOT_FOUND })
        .with_state(state)
}

/// A control request under an Entra host name gets the 404 of any path Entra does not serve
/// (`fake_kit::control`).
async fn admin_only_locally(request: Request, next: middleware::Next) -> Response {
    if !fake_kit::control::is_control_path(request.uri().path())
        || fake_kit::control::addressed_locally(&request)
    {
        next.run(request).await
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

/// AADSTS900561 for a GET on a token endpoint.
async fn only_post(request: Request) -> Response {
    if request.uri().path().ends_with("/token") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({
                "error": "invalid_request",
                "error_description": format!(
                    "AADSTS900561: The endpoint only accepts POST, OPTIONS requests. Received a {} request.",
                    request.method()
                ),
                "error_codes": [900561],
            })),
        )
            .into_response();
    }
    StatusCode::METHOD_NOT_ALLOWED.into_response()
}

/// Runs the request with its correlation id in scope and echoes `client-request-id`, as Entra does.
async fn correlate(request: Request, next: Next) -> Response {
    let sent = request
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v).ok());
    let id = sent.unwrap_or_else(Uuid::new_v4);
    let mut response = error::CORRELATION_ID.scope(id, next.run(request)).await;
    let headers = response.headers_mut();
    if sent.is_some() {
        headers.insert(
            "client-request-id",
            HeaderValue::from_str(&id.to_string()).expect("uuid is a header value"),
        );
    }
    headers.insert(
        "x-ms-request-id",
        HeaderValue::from_str(&Uuid::new_v4().to_string()).expect("uuid is a header value"),
    );
    response
}
