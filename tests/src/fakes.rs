//! fake-aad started in-process (through `test-support`), with its CA written where clients
//! that read a file (Python, Node) find it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use fake_aad::{AppState, Directory, FakeAad, Settings};
use fake_kit::Clock;
use tempfile::TempDir;
use test_support::{Pki, start_aad, trusting};

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
        let pki = Pki::new(&[]);
        let ca_path = pki.ca().write(dir.path())?;
        let server = start_aad(&pki, directory, Clock::system(), Settings::default()).await;
        Ok(Self {
            server,
            ca_pem: pki.ca_pem().to_owned(),
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
        Ok(trusting(self.ca_pem.as_bytes()).build()?)
    }

    /// Stops both listeners.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}
