//! Readiness probes for [`Supervisor::wait_ready`](super::Supervisor::wait_ready).

use std::time::Duration;

/// An HTTP client for health endpoints on loopback.
///
/// With `ca_pem` the server must present a certificate from that CA; without it any certificate
/// is accepted (kube-controller-manager and kube-scheduler serve a self-signed one).
pub fn http_client(ca_pem: Option<&str>) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy();
    builder = match ca_pem {
        Some(pem) => builder.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes())?),
        None => builder.danger_accept_invalid_certs(true),
    };
    builder.build()
}

/// Ok when `GET url` answers 2xx; otherwise the status and the start of the body.
pub async fn http_ok(client: &reqwest::Client, url: &str) -> Result<(), String> {
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    let body: String = body.chars().take(400).collect();
    Err(format!("GET {url}: {status}: {body}"))
}
