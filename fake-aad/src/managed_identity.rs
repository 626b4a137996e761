//! Managed identity, on its own plain-HTTP listener, in the shapes clients look for:
//! - IMDS: `GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=...` with
//!   `Metadata: true` (MicrosoftDocs `how-to-use-vm-token.md`);
//! - Cloud Shell / `MSI_ENDPOINT` alone: `POST` of a form with `resource` to the same path
//!   (adal's and azure-identity's CloudShell mode);
//! - App Service: `GET /msi/token?resource=...&api-version=2019-08-01` with
//!   `X-IDENTITY-HEADER` (`IDENTITY_ENDPOINT`/`IDENTITY_HEADER`), or api-version 2017-09-01
//!   with the `secret` header (`MSI_ENDPOINT`/`MSI_SECRET`).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::audit::AuditEntry;
use crate::claims::{AccessTokenClaims, ClientAuth};
use crate::directory::{Directory, ManagedIdentity, Tenant};
use crate::error::AadError;
use crate::state::AppState;
use crate::wire::{ManagedIdentityError, ManagedIdentityToken, no_store};

/// Routes of the managed-identity listener.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/metadata/identity/oauth2/token",
            get(imds_token).post(cloud_shell_token),
        )
        .route("/msi/token", get(app_service_token))
}

/// Query or form parameters; each shape names the identity its own way.
#[derive(Debug, Default, Deserialize)]
struct IdentityRequest {
    resource: Option<String>,
    client_id: Option<String>,
    clientid: Option<String>,
    object_id: Option<String>,
    principal_id: Option<String>,
    msi_res_id: Option<String>,
    mi_res_id: Option<String>,
}

impl IdentityRequest {
    fn identity(&self) -> Option<&str> {
        [
            &self.client_id,
            &self.clientid,
            &self.object_id,
            &self.principal_id,
            &self.msi_res_id,
            &self.mi_res_id,
        ]
        .into_iter()
        .find_map(|v| v.as_deref().filter(|s| !s.is_empty()))
    }
}

async fn imds_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(request): Query<IdentityRequest>,
) -> Response {
    if !has_metadata_header(&headers) {
        return metadata_header_missing();
    }
    token(&state, "imds", &request)
}

async fn cloud_shell_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<IdentityRequest>,
    body: Bytes,
) -> Response {
    if !has_metadata_header(&headers) {
        return metadata_header_missing();
    }
    let request = if body.is_empty() {
        query
    } else {
        serde_urlencoded::from_bytes(&body).unwrap_or_default()
    };
    token(&state, "imds", &request)
}

async fn app_service_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(request): Query<IdentityRequest>,
) -> Response {
    let presented = headers
        .get("x-identity-header")
        .or_else(|| headers.get("secret"))
        .and_then(|v| v.to_str().ok());
    if presented != Some(state.settings.identity_header.as_str()) {
        return mi_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized_client",
            "The X-IDENTITY-HEADER (or secret) header is missing or wrong.".to_owned(),
        );
    }
    token(&state, "appservice", &request)
}

/// IMDS requires `Metadata: true`, lower case, as an SSRF mitigation (`how-to-use-vm-token.md`).
fn has_metadata_header(headers: &HeaderMap) -> bool {
    headers.get("metadata").and_then(|v| v.to_str().ok()) == Some("true")
}

/// Error table of `how-to-use-vm-token.md`: 400, `bad_request_102`.
fn metadata_header_missing() -> Response {
    mi_error(
        StatusCode::BAD_REQUEST,
        "bad_request_102",
        "Required metadata header not specified".to_owned(),
    )
}

fn mi_error(status: StatusCode, error: &'static str, description: String) -> Response {
    let mut response = (
        status,
        Json(ManagedIdentityError {
            error,
            error_description: description,
        }),
    )
        .into_response();
    no_store(response.headers_mut());
    response
}

fn select<'d>(
    directory: &'d Directory,
    id: Option<&str>,
) -> Option<(&'d Tenant, &'d ManagedIdentity)> {
    if let Some(id) = id.or(directory.default_managed_identity.as_deref()) {
        directory.managed_identity(id)
    } else {
        let mut all = directory
            .tenants
            .iter()
            .flat_map(|t| t.managed_identities.iter().map(move |m| (t, m)));
        let first = all.next();
        // Without an id, IMDS picks the only identity there is; several are ambiguous.
        if all.next().is_some() { None } else { first }
    }
}

fn token(state: &AppState, endpoint: &'static str, request: &IdentityRequest) -> Response {
    let directory = state.directory();
    let now = state.clock().unix();
    let selected = select(&directory, request.identity());
    let audit = |outcome: &str| {
        state.audit().record(AuditEntry {
            seq: 0,
            time: now,
            endpoint,
            tenant: selected.map(|(t, _)| t.id.to_string()).unwrap_or_default(),
            client_id: selected
                .map(|(_, m)| m.client_id.to_string())
                .or_else(|| request.identity().map(str::to_owned))
                .unwrap_or_default(),
            grant: "managed_identity",
            resource: request.resource.clone().unwrap_or_default(),
            outcome: outcome.to_owned(),
        });
    };
    let Some((tenant, identity)) = selected else {
        audit("identity_not_found");
        return mi_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Identity not found".to_owned(),
        );
    };
    let Some(resource) = request.resource.clone().filter(|r| !r.is_empty()) else {
        audit("missing_resource");
        return mi_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required audience parameter not specified".to_owned(),
        );
    };
    if let Err(error) = crate::token::resource::from_resource(Some(&resource), tenant) {
        audit(&error.code().to_string());
        return mi_error(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            error.to_string(),
        );
    }
    if state.in_outage() {
        audit(&AadError::TemporarilyUnavailable.code().to_string());
        return AadError::TemporarilyUnavailable.into_response();
    }
    let lifetime = state.settings.token_lifetime;
    let principal = identity.principal(tenant);
    let claims = AccessTokenClaims::new(
        crate::claims::issuing_cloud(None, &resource),
        &principal,
        &resource,
        ClientAuth::Assertion,
        now,
        lifetime,
        false,
    );
    let signed = state
        .keys
        .for_tenant(tenant.id)
        .and_then(|k| k.sign(&claims));
    let access_token = match signed {
        Ok(token) => token,
        Err(error) => {
            tracing::error!(%error, "token signing failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    audit("success");
    let mut response = Json(ManagedIdentityToken {
        access_token,
        client_id: identity.client_id.to_string(),
        expires_in: lifetime.to_string(),
        expires_on: (now + lifetime).to_string(),
        ext_expires_in: lifetime.to_string(),
        not_before: (now - 300).to_string(),
        resource,
        token_type: "Bearer",
    })
    .into_response();
    no_store(response.headers_mut());
    response
}
