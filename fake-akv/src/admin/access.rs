//! `/_emulator/vaults/{vault}/access/grant` and `.../revoke`: role assignments and access
//! policies changed one at a time through [`Vault::grant`] and [`Vault::revoke`], so two
//! callers granting at once never overwrite each other's configuration.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::handlers::{admin_error, body, vault};
use crate::operations::{AccessChange, AccessError, Granted};
use crate::state::AppState;

/// What a grant answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantReply {
    /// The role assignment's id (RBAC vaults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment_id: Option<Uuid>,
}

/// What a revocation answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeReply {
    /// Role assignments or permissions removed.
    pub removed: usize,
}

fn refused(error: &AccessError) -> Response {
    let status = match error {
        AccessError::NotHeld { .. } => StatusCode::NOT_FOUND,
        AccessError::RoleMissing(_) | AccessError::RoleOnPolicyVault(_) | AccessError::Spec(_) => {
            StatusCode::BAD_REQUEST
        }
    };
    admin_error(status, error)
}

pub(super) async fn grant(
    State(state): State<AppState>,
    Path(name): Path<String>,
    change: Result<Json<AccessChange>, JsonRejection>,
) -> Result<Json<GrantReply>, Response> {
    let change = body(change)?;
    let granted = vault(&state, &name)?
        .grant(&change)
        .map_err(|e| refused(&e))?;
    Ok(Json(GrantReply {
        assignment_id: match granted {
            Granted::Assignment(id) => Some(id),
            Granted::Policy => None,
        },
    }))
}

pub(super) async fn revoke(
    State(state): State<AppState>,
    Path(name): Path<String>,
    change: Result<Json<AccessChange>, JsonRejection>,
) -> Result<Json<RevokeReply>, Response> {
    let change = body(change)?;
    let removed = vault(&state, &name)?
        .revoke(&change)
        .map_err(|e| refused(&e))?;
    Ok(Json(RevokeReply { removed }))
}
