//! The one place a wire value becomes an HTTP response with Key Vault's content type.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Key Vault answers `Content-Type: application/json; charset=utf-8` (every recording,
/// `azure-wire-facts.md` §2.3), not axum's bare `application/json`.
pub(crate) fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut response = (status, bytes).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            response
        }
        Err(error) => {
            tracing::error!(%error, "response body does not serialise");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// 200 with a JSON body.
pub(crate) fn ok<T: Serialize>(body: &T) -> Response {
    json(StatusCode::OK, body)
}
