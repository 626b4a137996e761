//! The fakes, started in-process on `127.0.0.1:0` with a throwaway CA.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use fake_aad::{AppState, Directory, FakeAad, Options, Settings};
use fake_kit::{CertificateAuthority, Clock};
use tempfile::TempDir;

/// A running fake Entra ID and the files a client needs to trust it.
#[derive(Debug)]
pub struct Aad {
    server: FakeAad,
    dir: TempDir,
    ca_path: PathBuf,
    ca_pem: String,
}

impl Aad {
    /// Starts fake-aad over `directory`, with a fresh CA written to `<tempdir>/ca.pem` and a
    /// leaf for `127.0.0.1`, `localhost` and Azure's host names.
    pub async fn start(directory: Directory) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("akv-e2e-aad-")
            .tempdir()
            .context("creating the fake's temp dir")?;
        let ca = CertificateAuthority::generate()?;
        let ca_path = ca.write(dir.path())?;
        let tls = ca.issue_default(&[])?.server_config()?;
        let state = AppState::new(directory, Clock::system(), Settings::default())?;
        let options = Options {
            listen: "127.0.0.1:0".parse().expect("socket address"),
            imds_listen: "127.0.0.1:0".parse().expect("socket address"),
            tls,
        };
        let server = FakeAad::start(options, state).await?;
        Ok(Self {
            server,
            ca_pem: ca.cert_pem().to_owned(),
            dir,
            ca_path,
        })
    }

    /// `https://127.0.0.1:PORT`: the authority host.
    #[must_use]
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// `http://127.0.0.1:PORT` of the managed-identity listener.
    #[must_use]
    pub fn imds_url(&self) -> String {
        self.server.imds_url()
    }

    /// The secret App Service style clients must send (`IDENTITY_HEADER`).
    #[must_use]
    pub fn identity_header(&self) -> &str {
        &self.server.state().settings().identity_header
    }

    /// The CA certificate file clients trust.
    #[must_use]
    pub fn ca_path(&self) -> &Path {
        &self.ca_path
    }

    /// A scratch directory that lives as long as the fake (certificates, token files).
    #[must_use]
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// The fake's state, for in-process changes (directory, clock).
    #[must_use]
    pub fn state(&self) -> &AppState {
        self.server.state()
    }

    /// Variables that make Python (requests, aiohttp) and Node trust the fake and never use
    /// a proxy for it.
    #[must_use]
    pub fn trust_env(&self) -> Vec<(String, String)> {
        let ca = self.ca_path.display().to_string();
        vec![
            ("REQUESTS_CA_BUNDLE".into(), ca.clone()),
            ("SSL_CERT_FILE".into(), ca.clone()),
            ("NODE_EXTRA_CA_CERTS".into(), ca),
            ("NO_PROXY".into(), "127.0.0.1,localhost".into()),
            ("no_proxy".into(), "127.0.0.1,localhost".into()),
        ]
    }

    /// An HTTPS client that trusts the fake's CA; every request is bounded to 30 seconds.
    pub fn http(&self) -> Result<reqwest::Client> {
        Ok(reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(std::time::Duration::from_secs(30))
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(self.ca_pem.as_bytes())?)
            .no_proxy()
            .build()?)
    }

    /// Stops both listeners.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}
