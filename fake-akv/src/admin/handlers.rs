//! Handlers of the `/_emulator` routes.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use fake_kit::clock::{ClockChange, ClockStatus};

use crate::audit::AuditEntry;
use crate::state::{AppState, FaultPlan, Vault};
use crate::vault::VaultSpec;

pub(super) fn admin_error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({ "error": message.to_string() }))).into_response()
}

/// The vault, settled as of now like a data-plane request's.
pub(super) fn vault(state: &AppState, name: &str) -> Result<std::sync::Arc<Vault>, Response> {
    let vault = state
        .vault(name)
        .ok_or_else(|| admin_error(StatusCode::NOT_FOUND, format!("vault {name} not found")))?;
    vault.sweep(state.clock().unix());
    Ok(vault)
}

pub(super) fn body<T>(parsed: Result<Json<T>, JsonRejection>) -> Result<T, Response> {
    parsed
        .map(|Json(t)| t)
        .map_err(|e| admin_error(StatusCode::BAD_REQUEST, e.body_text()))
}

pub(super) async fn list_vaults(State(state): State<AppState>) -> Json<Vec<VaultSpec>> {
    Json(
        state
            .vault_names()
            .iter()
            .filter_map(|n| state.vault(n))
            .map(|v| VaultSpec::clone(&v.spec()))
            .collect(),
    )
}

pub(super) async fn get_vault(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<VaultSpec>, Response> {
    state
        .vault(&name)
        .map(|v| Json(VaultSpec::clone(&v.spec())))
        .ok_or_else(|| admin_error(StatusCode::NOT_FOUND, format!("vault {name} not found")))
}

fn store_vault(state: &AppState, spec: VaultSpec) -> Response {
    match state.put_vault(spec.clone()) {
        Ok(true) => (StatusCode::CREATED, Json(spec)).into_response(),
        Ok(false) => (StatusCode::OK, Json(spec)).into_response(),
        Err(e) => admin_error(StatusCode::BAD_REQUEST, e),
    }
}

/// Creates a vault, or updates the configuration of an existing one (objects are kept).
pub(super) async fn put_vault(
    State(state): State<AppState>,
    spec: Result<Json<VaultSpec>, JsonRejection>,
) -> Response {
    match body(spec) {
        Ok(spec) => store_vault(&state, spec),
        Err(response) => response,
    }
}

pub(super) async fn put_named_vault(
    State(state): State<AppState>,
    Path(name): Path<String>,
    spec: Result<Json<VaultSpec>, JsonRejection>,
) -> Response {
    match body(spec) {
        Ok(spec) if spec.name.eq_ignore_ascii_case(&name) => store_vault(&state, spec),
        Ok(_) => admin_error(
            StatusCode::BAD_REQUEST,
            "name in body differs from the path",
        ),
        Err(response) => response,
    }
}

pub(super) async fn delete_vault(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Response {
    if state.remove_vault(&name) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        admin_error(StatusCode::NOT_FOUND, format!("vault {name} not found"))
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct DefaultVault {
    name: Option<String>,
}

pub(super) async fn get_default_vault(State(state): State<AppState>) -> Json<DefaultVault> {
    Json(DefaultVault {
        name: state.default_vault(),
    })
}

pub(super) async fn put_default_vault(
    State(state): State<AppState>,
    change: Result<Json<DefaultVault>, JsonRejection>,
) -> Response {
    match body(change) {
        Ok(change) => {
            state.set_default_vault(change.name);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(response) => response,
    }
}

pub(super) async fn get_clock(State(state): State<AppState>) -> Json<ClockStatus> {
    Json(state.clock().report())
}

pub(super) async fn move_clock(
    State(state): State<AppState>,
    change: Result<Json<ClockChange>, JsonRejection>,
) -> Result<Json<ClockStatus>, Response> {
    Ok(Json(state.clock().apply(body(change)?)))
}

#[derive(Debug, Deserialize)]
pub(super) struct AuditQuery {
    #[serde(default)]
    since: u64,
}

pub(super) async fn get_audit(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<Vec<AuditEntry>>, Response> {
    let Query(query) = query.map_err(|e| admin_error(StatusCode::BAD_REQUEST, e.body_text()))?;
    Ok(Json(state.audit().since(query.since)))
}

/// `{"count": 3, "status": 429, "retryAfter": 1}`: the next `count` data-plane requests fail.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Faults {
    count: u32,
    #[serde(default = "default_fault_status")]
    status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<u32>,
}

fn default_fault_status() -> u16 {
    429
}

pub(super) async fn get_faults(State(state): State<AppState>) -> Json<Faults> {
    let plan = state.faults();
    Json(Faults {
        count: plan.remaining,
        status: plan.status,
        retry_after: plan.retry_after,
    })
}

pub(super) async fn put_faults(
    State(state): State<AppState>,
    faults: Result<Json<Faults>, JsonRejection>,
) -> Response {
    let faults = match body(faults) {
        Ok(f) => f,
        Err(response) => return response,
    };
    if StatusCode::from_u16(faults.status).is_err() || faults.status < 400 {
        return admin_error(
            StatusCode::BAD_REQUEST,
            "status must be an HTTP error status",
        );
    }
    state.set_faults(FaultPlan {
        remaining: faults.count,
        status: faults.status,
        retry_after: faults.retry_after,
    });
    StatusCode::NO_CONTENT.into_response()
}

pub(super) async fn clear_faults(State(state): State<AppState>) -> StatusCode {
    state.set_faults(FaultPlan::default());
    StatusCode::NO_CONTENT
}
