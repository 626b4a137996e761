//! Headers Key Vault puts on every response (§2.3: `Cache-Control: no-cache`, `Pragma`,
//! `Expires: -1`, HSTS, `X-Content-Type-Options`, `x-ms-keyvault-network-info`,
//! `x-ms-keyvault-service-version`, `x-ms-request-id`, the echoed `x-ms-client-request-id`),
//! and the access log. `x-ms-keyvault-region` names the vault, so [`crate::dataplane`] sets it.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use uuid::Uuid;

use crate::error::InternalDetail;
use crate::state::AppState;

/// Adds the common headers and logs the request.
pub async fn common_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let client_request_id = request.headers().get("x-ms-client-request-id").cloned();
    let method = request.method().clone();
    // A clone shares the request's bytes; the path is only read when something is logged.
    let uri = request.uri().clone();
    let mut response = next.run(request).await;
    let status = response.status();
    if let Some(InternalDetail(detail)) = response.extensions().get::<InternalDetail>() {
        tracing::error!(%method, path = uri.path(), %detail, "internal error");
    }
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: HeaderValue| {
        headers.insert(HeaderName::from_static(name), value);
    };
    set("cache-control", HeaderValue::from_static("no-cache"));
    set("pragma", HeaderValue::from_static("no-cache"));
    set("expires", HeaderValue::from_static("-1"));
    set(
        "strict-transport-security",
        HeaderValue::from_static("max-age=31536000;includeSubDomains"),
    );
    set(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    let mut id = Uuid::encode_buffer();
    let request_id = &*Uuid::new_v4().hyphenated().encode_lower(&mut id);
    if let Ok(value) = HeaderValue::from_str(request_id) {
        set("x-ms-request-id", value);
    }
    if let Some(value) = state.service_version_header() {
        set("x-ms-keyvault-service-version", value.clone());
    }
    if let Some(peer) = peer {
        let info = match peer {
            SocketAddr::V4(v4) => {
                format!("conn_type=Ipv4;addr={};act_addr_fam=InterNetwork;", v4.ip())
            }
            SocketAddr::V6(v6) => format!(
                "conn_type=Ipv6;addr={};act_addr_fam=InterNetworkV6;",
                v6.ip()
            ),
        };
        if let Ok(value) = HeaderValue::from_str(&info) {
            set("x-ms-keyvault-network-info", value);
        }
    }
    if let Some(value) = client_request_id {
        set("x-ms-client-request-id", value);
    }
    tracing::debug!(%method, path = uri.path(), status = status.as_u16(), %request_id, "request");
    response
}
