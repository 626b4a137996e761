//! The control plane for scenarios and the harness, under `/_emulator` (a prefix Entra never
//! uses): read and replace the directory, add and expire credentials, move the clock, read the
//! audit log, and simulate an outage.

use std::sync::atomic::Ordering;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use fake_kit::clock::{ClockChange, ClockStatus};

use crate::audit::AuditEntry;
use crate::directory::{
    App, ClientCertificate, ClientSecret, Directory, FederatedCredential, ManagedIdentity, Tenant,
    TrustedIssuer,
};
use crate::operations::{DirectoryError, NewClientSecret, SecretSelector};
use crate::state::AppState;

/// Routes under `/_emulator`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/_emulator/directory",
            get(get_directory).put(put_directory),
        )
        .route("/_emulator/tenants", post(add_tenant))
        .route("/_emulator/tenants/{tenant}/apps", post(add_app))
        .route(
            "/_emulator/tenants/{tenant}/managedIdentities",
            post(add_identity),
        )
        .route(
            "/_emulator/tenants/{tenant}/apps/{app}/secrets",
            post(add_secret),
        )
        .route(
            "/_emulator/tenants/{tenant}/apps/{app}/secrets/expire",
            post(expire_secrets),
        )
        .route(
            "/_emulator/tenants/{tenant}/apps/{app}/secrets/{key}",
            patch(update_secret).delete(delete_secret),
        )
        .route(
            "/_emulator/tenants/{tenant}/apps/{app}/certificates",
            post(add_certificate),
        )
        .route(
            "/_emulator/tenants/{tenant}/principals/{client}/federatedCredentials",
            post(add_federated_credential),
        )
        .route("/_emulator/issuers", post(add_issuer))
        .route("/_emulator/clock", get(get_clock).post(move_clock))
        .route("/_emulator/audit", get(get_audit))
        .route("/_emulator/faults", put(put_faults))
}

type AdminResult<T> = Result<Json<T>, Response>;

fn persist_failed(error: &std::io::Error) -> Response {
    tracing::error!(%error, "cannot persist the directory");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "error": format!("cannot persist the directory: {error}") })),
    )
        .into_response()
}

fn refused(error: &DirectoryError) -> Response {
    let status = match error {
        DirectoryError::Persist(e) => return persist_failed(e),
        DirectoryError::NotACertificate => StatusCode::BAD_REQUEST,
        _ => StatusCode::NOT_FOUND,
    };
    (status, Json(json!({ "error": error.to_string() }))).into_response()
}

async fn get_directory(State(state): State<AppState>) -> Json<Directory> {
    Json(state.directory())
}

async fn put_directory(
    State(state): State<AppState>,
    Json(directory): Json<Directory>,
) -> Result<StatusCode, Response> {
    state
        .replace_directory(directory)
        .map_err(|e| refused(&e))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn add_tenant(
    State(state): State<AppState>,
    Json(tenant): Json<Tenant>,
) -> AdminResult<Tenant> {
    state.put_tenant(tenant).map(Json).map_err(|e| refused(&e))
}

async fn add_app(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    Json(app): Json<App>,
) -> AdminResult<App> {
    state
        .put_app(&tenant, app)
        .map(Json)
        .map_err(|e| refused(&e))
}

async fn add_identity(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    Json(identity): Json<ManagedIdentity>,
) -> AdminResult<ManagedIdentity> {
    state
        .put_managed_identity(&tenant, identity)
        .map(Json)
        .map_err(|e| refused(&e))
}

async fn add_secret(
    State(state): State<AppState>,
    Path((tenant, app)): Path<(String, String)>,
    Json(new): Json<NewClientSecret>,
) -> AdminResult<ClientSecret> {
    state
        .add_client_secret(&tenant, &app, new)
        .map(Json)
        .map_err(|e| refused(&e))
}

/// Changes a secret's expiry: `{"end": "2020-01-01T00:00:00Z"}` expires it at once.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SecretUpdate {
    #[serde(with = "time::serde::rfc3339::option")]
    end: Option<OffsetDateTime>,
}

async fn update_secret(
    State(state): State<AppState>,
    Path((tenant, app, key)): Path<(String, String, Uuid)>,
    Json(update): Json<SecretUpdate>,
) -> AdminResult<ClientSecret> {
    state
        .set_client_secret_end(&tenant, &app, key, update.end)
        .map(Json)
        .map_err(|e| refused(&e))
}

/// Expires the secrets the body picks (all when it names none) on the fake's clock.
async fn expire_secrets(
    State(state): State<AppState>,
    Path((tenant, app)): Path<(String, String)>,
    Json(which): Json<SecretSelector>,
) -> AdminResult<Vec<Uuid>> {
    state
        .expire_client_secrets(&tenant, &app, &which)
        .map(Json)
        .map_err(|e| refused(&e))
}

async fn delete_secret(
    State(state): State<AppState>,
    Path((tenant, app, key)): Path<(String, String, Uuid)>,
) -> Result<StatusCode, Response> {
    state
        .remove_client_secret(&tenant, &app, key)
        .map(|()| StatusCode::NO_CONTENT)
        .map_err(|e| refused(&e))
}

async fn add_certificate(
    State(state): State<AppState>,
    Path((tenant, app)): Path<(String, String)>,
    Json(certificate): Json<ClientCertificate>,
) -> AdminResult<ClientCertificate> {
    state
        .add_client_certificate(&tenant, &app, certificate)
        .map(Json)
        .map_err(|e| refused(&e))
}

async fn add_federated_credential(
    State(state): State<AppState>,
    Path((tenant, client)): Path<(String, String)>,
    Json(credential): Json<FederatedCredential>,
) -> AdminResult<FederatedCredential> {
    state
        .federate(&tenant, &client, credential)
        .map(Json)
        .map_err(|e| refused(&e))
}

async fn add_issuer(
    State(state): State<AppState>,
    Json(issuer): Json<TrustedIssuer>,
) -> AdminResult<TrustedIssuer> {
    state
        .trust_issuer(issuer)
        .map(Json)
        .map_err(|e| refused(&e))
}

async fn get_clock(State(state): State<AppState>) -> Json<ClockStatus> {
    Json(state.clock().report())
}

async fn move_clock(
    State(state): State<AppState>,
    Json(change): Json<ClockChange>,
) -> Json<ClockStatus> {
    Json(state.clock().apply(change))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    #[serde(default)]
    since: u64,
}

async fn get_audit(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> Json<Vec<AuditEntry>> {
    Json(state.audit().since(query.since))
}

/// `{"outage": true}` makes every token request fail as a transient Entra outage.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Faults {
    outage: bool,
}

async fn put_faults(State(state): State<AppState>, Json(faults): Json<Faults>) -> StatusCode {
    state.outage.store(faults.outage, Ordering::Relaxed);
    StatusCode::NO_CONTENT
}
