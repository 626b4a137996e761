//! Raw HTTP/1.1 requests as fuzz inputs, and one routed round trip.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The most header lines a request may carry before it is not worth parsing (hyper's own
/// default is 100).
const MAX_HEADERS: usize = 100;

/// The request a fuzz input stands for: `placeholders` filled in, then parsed.
#[must_use]
pub fn request(data: &[u8], placeholders: &[(&str, &str)]) -> Option<Request<Body>> {
    parse(&fill(data, placeholders))
}

/// Replaces each `(placeholder, value)` in `data`.
fn fill(data: &[u8], placeholders: &[(&str, &str)]) -> Vec<u8> {
    let mut out = data.to_vec();
    for (placeholder, value) in placeholders {
        let needle = placeholder.as_bytes();
        let mut filled = Vec::with_capacity(out.len());
        let mut rest = out.as_slice();
        while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
            filled.extend_from_slice(&rest[..at]);
            filled.extend_from_slice(value.as_bytes());
            rest = &rest[at + needle.len()..];
        }
        filled.extend_from_slice(rest);
        out = filled;
    }
    out
}

/// Parses a raw HTTP/1.1 request the way hyper would accept it; `None` where hyper would
/// refuse the connection before any handler ran.
fn parse(data: &[u8]) -> Option<Request<Body>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(head_len) = parsed.parse(data).ok()? else {
        return None;
    };
    let mut builder = Request::builder().method(parsed.method?).uri(parsed.path?);
    for header in parsed.headers.iter() {
        builder = builder.header(header.name, header.value);
    }
    let mut request = builder.body(Body::from(data[head_len..].to_vec())).ok()?;
    request
        .extensions_mut()
        .insert(ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            50_000,
        ))));
    Some(request)
}

/// A response, read to the end.
#[derive(Debug)]
pub struct Reply {
    /// Its status.
    pub status: StatusCode,
    /// Its body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON, if it is JSON.
    #[must_use]
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Sends `request` through `router` and reads the whole response.
#[must_use]
pub fn send(router: Router, request: Request<Body>) -> Reply {
    crate::runtime().block_on(async move {
        let response = router
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default();
        Reply { status, body }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_everywhere() {
        assert_eq!(fill(b"a $T b $T", &[("$T", "xy")]), b"a xy b xy".to_vec());
    }

    #[test]
    fn a_request_with_a_body_parses() {
        let request = parse(b"PUT /secrets/a?api-version=7.6 HTTP/1.1\r\nHost: kv.vault.azure.net\r\nContent-Type: application/json\r\n\r\n{\"value\":\"v\"}").unwrap();
        assert_eq!(request.method(), http::Method::PUT);
        assert_eq!(request.uri().path(), "/secrets/a");
        assert_eq!(request.headers()["host"], "kv.vault.azure.net");
        assert!(parse(b"PUT /secrets/a HTTP/1.1\r\nHost").is_none());
    }
}
