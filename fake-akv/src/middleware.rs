//! Headers Key Vault puts on every response (§2.3: `Cache-Control: no-cache`, `Pragma`,
//! `Expires: -1`, HSTS, `X-Content-Type-Options`, `x-ms-keyvault-network-info`,
//! `x-ms-keyvault-service-version`, `x-ms-request-id`, the echoed `x-ms-client-request-id`),
//! and the access log. `x-ms-keyvault-region` names the vault, so [`crate::dataplane`] sets it.
//! Before anything else, the request-size limit of the HTTP.sys front end ([`request_size`]).
//! With a state file, [`durable_writes`] holds each write's answer until it is on disk.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::error::{AkvError, InternalDetail};
use crate::state::AppState;

/// HTTP.sys's default `MaxRequestBytes`: the request line and headers together ("Http.sys
/// registry settings for Windows", learn.microsoft.com/troubleshoot/developer/webapps/iis/
/// iisadmin-service-inetinfo/httpsys-registry-windows). Key Vault answers as an IIS
/// application (its 2020 recordings carry `x-aspnet-version` and `x-powered-by: ASP.NET`).
const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// HTTP.sys's page for a request over [`MAX_REQUEST_BYTES`] ("HTTP 400 - Bad Request
/// (Request Header too long) responses to HTTP requests", learn.microsoft.com/troubleshoot/
/// developer/webapps/iis/iisadmin-service-inetinfo/http-bad-request-response-kerberos).
const REQUEST_TOO_LONG: &str = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"\"http://www.w3.org/TR/html4/strict.dtd\">\r\n<HTML><HEAD><TITLE>Bad Request</TITLE>\r\n<META HTTP-EQUIV=\"Content-Type\" Content=\"text/html; charset=us-ascii\"></HEAD>\r\n<BODY><h2>Bad Request - Request Too Long</h2>\r\n<hr><p>HTTP Error 400. The size of the request headers is too long.</p>\r\n</BODY></HTML>\r\n";

/// Refuses a request whose head is over HTTP.sys's limit, before the service sees it.
pub async fn request_size(request: Request, next: Next) -> Response {
    let head = request.method().as_str().len()
        + request.uri().to_string().len()
        + request
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum::<usize>();
    if head > MAX_REQUEST_BYTES {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            [(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=us-ascii"),
            )],
            REQUEST_TOO_LONG,
        )
            .into_response();
    }
    next.run(request).await
}

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

/// Middleware of a durable state: a successful mutating request is answered only once its
/// change is on disk (journaled for the data plane, a compaction for `/_emulator`). A failed
/// write answers 500, since the change may not survive a crash.
pub async fn durable_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mutating = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let admin = request.uri().path().starts_with("/_emulator");
    let response = next.run(request).await;
    if !mutating || !response.status().is_success() {
        return response;
    }
    let persisting = state.clone();
    let persisted = tokio::task::spawn_blocking(move || {
        if admin {
            persisting.persist()
        } else {
            persisting.sync()
        }
    })
    .await;
    match persisted {
        Ok(Ok(())) => response,
        Ok(Err(error)) => AkvError::Internal(format!("persisting state: {error}")).into_response(),
        Err(error) => AkvError::Internal(format!("persisting state: {error}")).into_response(),
    }
}
