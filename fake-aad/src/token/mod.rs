//! The two token endpoints. Both parse the form, resolve the tenant and the client, check the
//! credential (one grant per file), then issue a v1 access token for the requested resource.

mod client_assertion;
mod client_secret;
mod federated;
pub(crate) mod resource;

pub use client_assertion::certificate_der;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::audit::AuditEntry;
use crate::claims::{AccessTokenClaims, ClientAuth};
use crate::directory::{Directory, Principal, Tenant};
use crate::error::AadError;
use crate::state::AppState;
use crate::tenant::TenantSegment;
use crate::wire::{TokenRequest, TokenResponseV1, TokenResponseV2, no_store};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Routes for `/{tenant}/oauth2/token` (v1) and `/{tenant}/oauth2/v2.0/token` (v2).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{tenant}/oauth2/token", post(token_v1))
        .route("/{tenant}/oauth2/v2.0/token", post(token_v2))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    V1,
    V2,
}

async fn token_v1(
    State(state): State<AppState>,
    TenantSegment(tenant): TenantSegment,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cloud = crate::discovery::request_cloud(&uri, &headers);
    issue(&state, Endpoint::V1, &tenant, cloud, &headers, &body).await
}

async fn token_v2(
    State(state): State<AppState>,
    TenantSegment(tenant): TenantSegment,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cloud = crate::discovery::request_cloud(&uri, &headers);
    issue(&state, Endpoint::V2, &tenant, cloud, &headers, &body).await
}

/// What a successful credential check yields.
struct Authenticated {
    principal: Principal,
    auth: ClientAuth,
}

async fn issue(
    state: &AppState,
    endpoint: Endpoint,
    tenant_segment: &str,
    cloud: Option<fake_kit::Cloud>,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let mut request: TokenRequest = serde_urlencoded::from_bytes(body).unwrap_or_default();
    apply_basic_auth(&mut request, headers);
    let resource_text = match endpoint {
        Endpoint::V1 => request.resource.clone(),
        Endpoint::V2 => request.scope.clone(),
    }
    .unwrap_or_default();
    let mut grant = "none";
    let result = async {
        if state.in_outage() {
            return Err(AadError::TemporarilyUnavailable);
        }
        let directory = state.directory();
        let tenant = resolve_tenant(&directory, tenant_segment, request.client_id.as_deref())?;
        match request.grant_type.as_deref() {
            None | Some("") => return Err(AadError::MissingParameter { name: "grant_type" }),
            Some("client_credentials") => {}
            Some(other) => {
                return Err(AadError::UnsupportedGrantType {
                    grant_type: other.to_owned(),
                });
            }
        }
        let client_id = request
            .client_id
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or(AadError::MissingParameter { name: "client_id" })?;
        let audience = match endpoint {
            Endpoint::V1 => resource::from_resource(request.resource.as_deref(), tenant)?,
            Endpoint::V2 => resource::from_scope(request.scope.as_deref(), tenant)?,
        };
        resource::check_cloud(&audience, cloud, tenant)?;
        let authenticated = authenticate(
            state, &directory, tenant, &client_id, &request, headers, &mut grant,
        )
        .await?;
        Ok((authenticated, audience))
    }
    .await;

    let now = state.clock().unix();
    let entry = |outcome: String| AuditEntry {
        seq: 0,
        time: now,
        endpoint: match endpoint {
            Endpoint::V1 => "v1",
            Endpoint::V2 => "v2",
        },
        tenant: tenant_segment.to_owned(),
        client_id: request.client_id.clone().unwrap_or_default(),
        grant,
        resource: resource_text.clone(),
        outcome,
    };
    let (authenticated, audience) = match result {
        Ok(ok) => ok,
        Err(error) => {
            state.audit().record(entry(error.code().to_string()));
            return error.into_response();
        }
    };
    let lifetime = state.settings.token_lifetime;
    let claims = AccessTokenClaims::new(
        crate::claims::issuing_cloud(cloud, &audience),
        &authenticated.principal,
        &audience,
        authenticated.auth,
        now,
        lifetime,
        wants_cae(request.claims.as_deref()),
    );
    let token = match state
        .keys
        .for_tenant(authenticated.principal.tenant)
        .and_then(|key| key.sign(&claims))
    {
        Ok(token) => token,
        Err(error) => {
            tracing::error!(%error, "token signing failed");
            return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    state.audit().record(entry("success".to_owned()));
    respond(endpoint, lifetime, now, audience, token)
}

fn respond(
    endpoint: Endpoint,
    lifetime: i64,
    now: i64,
    audience: String,
    token: String,
) -> Response {
    let mut response = match endpoint {
        Endpoint::V1 => axum::Json(TokenResponseV1 {
            token_type: "Bearer",
            expires_in: lifetime.to_string(),
            ext_expires_in: lifetime.to_string(),
            expires_on: (now + lifetime).to_string(),
            not_before: (now - 300).to_string(),
            resource: audience,
            access_token: token,
        })
        .into_response(),
        Endpoint::V2 => axum::Json(TokenResponseV2 {
            token_type: "Bearer",
            expires_in: lifetime,
            ext_expires_in: lifetime,
            access_token: token,
        })
        .into_response(),
    };
    no_store(response.headers_mut());
    response
}

/// `client_secret_basic`: Entra accepts the client id and secret in an HTTP Basic header.
fn apply_basic_auth(request: &mut TokenRequest, headers: &HeaderMap) {
    let Some(value) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return;
    };
    let Some(decoded) = STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|d| String::from_utf8(d).ok())
    else {
        return;
    };
    if let Some((id, secret)) = decoded.split_once(':') {
        request.client_id.get_or_insert_with(|| id.to_owned());
        request
            .client_secret
            .get_or_insert_with(|| secret.to_owned());
    }
}

/// `common` and `organizations` are not tenants: for app-only flows the fake resolves them to
/// the tenant that registers the client, the only one that could issue the token.
fn resolve_tenant<'d>(
    directory: &'d Directory,
    segment: &str,
    client_id: Option<&str>,
) -> Result<&'d Tenant, AadError> {
    if (segment.eq_ignore_ascii_case("common") || segment.eq_ignore_ascii_case("organizations"))
        && let Some(tenant) = client_id.and_then(|id| {
            directory
                .tenants
                .iter()
                .find(|t| t.app(id).is_some() || t.managed_identity_by_client_id(id).is_some())
        })
    {
        return Ok(tenant);
    }
    directory
        .tenant(segment)
        .ok_or_else(|| AadError::TenantNotFound {
            tenant: segment.to_owned(),
        })
}

async fn authenticate(
    state: &AppState,
    directory: &Directory,
    tenant: &Tenant,
    client_id: &str,
    request: &TokenRequest,
    headers: &HeaderMap,
    grant: &mut &'static str,
) -> Result<Authenticated, AadError> {
    let app = tenant.app(client_id);
    let identity = tenant.managed_identity_by_client_id(client_id);
    if app.is_none() && identity.is_none() {
        return Err(AadError::ApplicationNotFound {
            client_id: client_id.to_owned(),
            tenant: tenant.display_name.clone(),
        });
    }
    let now = state.clock().now();
    if let Some(assertion) = request
        .client_assertion
        .as_deref()
        .filter(|a| !a.is_empty())
    {
        if request.client_assertion_type.as_deref() != Some(JWT_BEARER) {
            return Err(AadError::MissingParameter {
                name: "client_assertion_type",
            });
        }
        let unverified = client_assertion::peek(assertion)?;
        if unverified.issuer == client_id {
            *grant = "client_certificate";
            let app = app.ok_or(AadError::AssertionSignatureInvalid)?;
            client_assertion::verify(assertion, &unverified, app, tenant, headers, now)?;
            return Ok(Authenticated {
                principal: app.principal(tenant),
                auth: ClientAuth::Assertion,
            });
        }
        *grant = "federated";
        let credentials = app
            .map(|a| &a.federated_credentials)
            .or(identity.map(|m| &m.federated_credentials))
            .expect("app or identity exists");
        federated::verify(state, directory, assertion, &unverified, credentials, now).await?;
        let principal = match (app, identity) {
            (Some(app), _) => app.principal(tenant),
            (None, Some(identity)) => identity.principal(tenant),
            (None, None) => unreachable!("checked above"),
        };
        return Ok(Authenticated {
            principal,
            auth: ClientAuth::Assertion,
        });
    }
    if let Some(secret) = request.client_secret.as_deref() {
        *grant = "client_secret";
        let Some(app) = app else {
            // A managed identity has no secrets: whatever was sent is wrong.
            return Err(AadError::InvalidClientSecret {
                client_id: identity.expect("identity exists").client_id,
            });
        };
        client_secret::verify(app, secret, now)?;
        return Ok(Authenticated {
            principal: app.principal(tenant),
            auth: ClientAuth::Secret,
        });
    }
    Err(AadError::MissingClientCredential)
}

/// True when the `claims` request parameter declares the CAE capability (`cp1`).
fn wants_cae(claims: Option<&str>) -> bool {
    claims
        .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
        .and_then(|v| v.pointer("/access_token/xms_cc/values").cloned())
        .and_then(|v| v.as_array().cloned())
        .is_some_and(|values| {
            values
                .iter()
                .any(|v| v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("cp1")))
        })
}
