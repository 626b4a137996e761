//! What every crate's tests share, so "a CA, the fakes and a client that trusts them" is set
//! up once: [`Pki`] (a throwaway CA and the fakes' server certificate), [`start_aad`] and
//! [`start_akv`] (the fakes in-process on `127.0.0.1:0`, fake-akv verifying fake-aad's tokens),
//! [`trusting`] (an HTTPS client that trusts only a given CA), and two small helpers
//! ([`claims`], [`within`]).
//!
//! Everything here panics with a message instead of returning errors: it runs only in tests,
//! where a failed set-up is a failed test.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use fake_aad::{Directory, FakeAad};
use fake_akv::{EmulatorConfig, FakeAkv};
use fake_kit::{CertificateAuthority, Clock, ServerConfig};

/// A throwaway CA and a server certificate it signed for `127.0.0.1`, `localhost`, Azure's host
/// names in every cloud and the names a test adds.
pub struct Pki {
    ca: CertificateAuthority,
    tls: Arc<ServerConfig>,
}

impl Pki {
    /// A fresh CA; the leaf also covers `hosts` (rustls-webpki does not match `*.localhost`,
    /// so each `{vault}.localhost` a test uses is named here).
    #[must_use]
    pub fn new(hosts: &[&str]) -> Self {
        let ca = CertificateAuthority::generate().expect("a test CA");
        let hosts: Vec<String> = hosts.iter().map(|h| (*h).to_owned()).collect();
        let tls = ca
            .issue_default(&hosts)
            .expect("a leaf for the fakes")
            .server_config()
            .expect("a rustls server configuration");
        Self { ca, tls }
    }

    /// The CA.
    #[must_use]
    pub fn ca(&self) -> &CertificateAuthority {
        &self.ca
    }

    /// The CA certificate, PEM.
    #[must_use]
    pub fn ca_pem(&self) -> &str {
        self.ca.cert_pem()
    }

    /// The fakes' server configuration.
    #[must_use]
    pub fn tls(&self) -> Arc<ServerConfig> {
        self.tls.clone()
    }

    /// A client builder that trusts this CA only (see [`trusting`]).
    pub fn client(&self) -> reqwest::ClientBuilder {
        trusting(self.ca_pem().as_bytes())
    }
}

/// An HTTPS client builder that trusts `ca_pem` and nothing else, uses no proxy (a test adds
/// one with `.proxy`), and gives up on a request after 30 seconds, so a hang fails the test
/// instead of stalling the suite.
pub fn trusting(ca_pem: &[u8]) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem).expect("a PEM CA"))
        .no_proxy()
        .timeout(Duration::from_secs(30))
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// fake-aad over `directory`, in-process on loopback (token and managed-identity listeners).
pub async fn start_aad(
    pki: &Pki,
    directory: Directory,
    clock: Clock,
    settings: fake_aad::Settings,
) -> FakeAad {
    let state = fake_aad::AppState::new(directory, clock, settings).expect("fake-aad's state");
    let options = fake_aad::Options {
        listen: loopback(),
        imds_listen: loopback(),
        tls: pki.tls(),
    };
    FakeAad::start(options, state)
        .await
        .expect("fake-aad starts")
}

/// fake-akv over `config`, in-process on loopback, verifying tokens against `aad`'s keys.
pub async fn start_akv(
    pki: &Pki,
    config: EmulatorConfig,
    clock: Clock,
    settings: fake_akv::Settings,
    aad: &FakeAad,
) -> FakeAkv {
    let state = fake_akv::AppState::new(config, clock, settings).expect("fake-akv's state");
    let options = fake_akv::Options {
        listen: loopback(),
        tls: pki.tls(),
        aad_url: Some(aad.url()),
        aad_ca_pem: Some(pki.ca_pem().to_owned()),
    };
    FakeAkv::start(options, state)
        .await
        .expect("fake-akv starts")
}

/// A JWT's payload, not verified.
#[must_use]
pub fn claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("the payload is base64url");
    serde_json::from_slice(&bytes).expect("the payload is JSON")
}

/// Runs a test body under a 60-second timeout, so a hang fails instead of stalling the suite.
pub async fn within<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("test timed out")
}
