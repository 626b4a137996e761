//! Discovery: OpenID configuration (v1 and v2), MSAL's instance discovery, and the JWKS the
//! configuration documents point at. URLs are built from the request's own host, so the same
//! fake answers as `login.microsoftonline.com` (or a sovereign cloud's login host, such as
//! `login.microsoftonline.us`) through the routing proxy and as `127.0.0.1:PORT` directly;
//! MSAL requires the issuer's host to equal the authority's. The v1 issuer and the instance
//! metadata follow the cloud of that host ([`fake_kit::Cloud`]).
//! Document fields: recorded OIDC documents, `azure-wire-facts.md` §4.2.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use fake_kit::Cloud;

use crate::error::AadError;
use crate::state::AppState;
use crate::tenant::TenantSegment;
use crate::wire::{CloudAliases, InstanceDiscovery};

/// True for a host name some cloud's Entra answers to (every instance-discovery alias of
/// [`Cloud::ALL`]).
#[must_use]
pub fn is_login_host(host: &str) -> bool {
    Cloud::for_login_host(host).is_some()
}

/// The cloud of the login host a request was sent to; `None` for any other host
/// (`127.0.0.1:PORT` when a client reaches the fake directly).
#[must_use]
pub fn request_cloud(uri: &Uri, headers: &HeaderMap) -> Option<Cloud> {
    Cloud::for_login_host(&authority(uri, headers))
}

/// Routes for discovery documents and keys.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/common/discovery/instance", get(instance_discovery))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(openid_configuration_v2),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(openid_configuration_v1),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(keys))
        .route("/{tenant}/discovery/keys", get(keys))
}

/// `host[:port]` the client addressed.
fn authority(uri: &Uri, headers: &HeaderMap) -> String {
    uri.authority()
        .map(ToString::to_string)
        .or_else(|| {
            headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "login.microsoftonline.com".to_owned())
}

/// A tenant segment resolved for discovery: the tenant id, or a multi-tenant alias.
enum TenantRef {
    Id(Uuid),
    Alias(&'static str),
}

fn resolve(state: &AppState, segment: &str) -> Result<TenantRef, AadError> {
    for alias in ["common", "organizations", "consumers"] {
        if segment.eq_ignore_ascii_case(alias) {
            return Ok(TenantRef::Alias(alias));
        }
    }
    state
        .directory()
        .tenant(segment)
        .map(|t| TenantRef::Id(t.id))
        .ok_or_else(|| AadError::TenantNotFoundForDiscovery {
            tenant: segment.to_owned(),
        })
}

async fn openid_configuration_v2(
    State(state): State<AppState>,
    TenantSegment(tenant): TenantSegment,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AadError> {
    let host = authority(&uri, &headers);
    let (path_tenant, issuer_tenant) = match resolve(&state, &tenant)? {
        TenantRef::Id(id) => (id.to_string(), id.to_string()),
        // Multi-tenant documents carry the literal template (coreos/go-oidc#121).
        TenantRef::Alias(alias) => (alias.to_owned(), "{tenantid}".to_owned()),
    };
    let base = format!("https://{host}/{path_tenant}");
    Ok(cached(json!({
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("https://{host}/{issuer_tenant}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{base}/kerberos"),
        "tenant_region_scope": "WW",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net"
    })))
}

async fn openid_configuration_v1(
    State(state): State<AppState>,
    TenantSegment(tenant): TenantSegment,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AadError> {
    let host = authority(&uri, &headers);
    let cloud = Cloud::for_login_host(&host).unwrap_or(Cloud::Public);
    let (path_tenant, issuer_tenant) = match resolve(&state, &tenant)? {
        TenantRef::Id(id) => (id.to_string(), id.to_string()),
        TenantRef::Alias(alias) => (alias.to_owned(), "{tenantid}".to_owned()),
    };
    let base = format!("https://{host}/{path_tenant}");
    Ok(cached(json!({
        "token_endpoint": format!("{base}/oauth2/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("https://{host}/common/discovery/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid"],
        "issuer": cloud.v1_issuer(issuer_tenant),
        "microsoft_multi_refresh_token": true,
        "authorization_endpoint": format!("{base}/oauth2/authorize"),
        "device_authorization_endpoint": format!("{base}/oauth2/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/oauth2/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"],
        "check_session_iframe": format!("{base}/oauth2/checksession"),
        "userinfo_endpoint": format!("{base}/openid/userinfo"),
        "kerberos_endpoint": format!("{base}/kerberos"),
        "tenant_region_scope": "WW",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net"
    })))
}

async fn keys(
    State(state): State<AppState>,
    TenantSegment(tenant): TenantSegment,
) -> Result<Response, AadError> {
    let tenants: Vec<Uuid> = match resolve(&state, &tenant)? {
        TenantRef::Id(id) => vec![id],
        // Entra signs every tenant's tokens with one key set; the fake's `common` JWKS is the
        // union of its per-tenant keys.
        TenantRef::Alias(_) => state.directory().tenants.iter().map(|t| t.id).collect(),
    };
    match state.keys.jwks(&tenants) {
        Ok(jwks) => Ok(cached(serde_json::to_value(jwks).expect("JWKS serialises"))),
        Err(error) => {
            tracing::error!(%error, "cannot build JWKS");
            Ok(axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
    }
}

#[derive(Deserialize)]
struct InstanceQuery {
    authorization_endpoint: Option<String>,
}

async fn instance_discovery(
    Query(query): Query<InstanceQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AadError> {
    let own = authority(&uri, &headers);
    let endpoint = query
        .authorization_endpoint
        .as_deref()
        .and_then(|e| url::Url::parse(e).ok())
        .ok_or(AadError::MissingParameter {
            name: "authorization_endpoint",
        })?;
    let host = match endpoint.port() {
        Some(port) => format!("{}:{port}", endpoint.host_str().unwrap_or_default()),
        None => endpoint.host_str().unwrap_or_default().to_owned(),
    };
    let cloud = Cloud::for_login_host(&host);
    if cloud.is_none() && !host.eq_ignore_ascii_case(&own) {
        return Err(AadError::UnknownInstance);
    }
    let tenant = endpoint
        .path_segments()
        .and_then(|mut s| s.next())
        .unwrap_or("common")
        .to_owned();
    // A known cloud's host is answered with that cloud's recorded metadata; the fake's own
    // direct address is a one-host cloud of its own.
    let metadata = match cloud {
        Some(cloud) => CloudAliases {
            preferred_network: cloud.preferred_network().to_owned(),
            preferred_cache: cloud.preferred_cache().to_owned(),
            aliases: cloud
                .login_hosts()
                .iter()
                .map(|h| (*h).to_owned())
                .collect(),
        },
        None => CloudAliases {
            preferred_network: host.clone(),
            preferred_cache: host.clone(),
            aliases: vec![host.clone()],
        },
    };
    let body = InstanceDiscovery {
        tenant_discovery_endpoint: format!(
            "https://{host}/{tenant}/v2.0/.well-known/openid-configuration"
        ),
        api_version: "1.1",
        metadata: vec![metadata],
    };
    Ok(cached(serde_json::to_value(body).expect("serialises")))
}

/// Discovery answers carry `Cache-Control: max-age=86400, private` (recorded).
fn cached(body: Value) -> Response {
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=86400, private"),
    );
    response
}
