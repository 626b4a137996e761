//! A started bench: where it answers, who may call it, and how a client reaches it.

use std::path::PathBuf;

use fake_aad::directory::{App, ManagedIdentity};
use fake_kit::container::{INFO_PORT, PROXY_PORT};
use testcontainers::{ContainerAsync, GenericImage};
use uuid::Uuid;

use crate::{Error, World};

const CA_FILE: &str = "ca.pem";

/// The running container; it is removed when this is dropped.
pub struct RunningBench {
    container: ContainerAsync<GenericImage>,
    world: World,
    proxy_url: String,
    front_door: String,
    ca_pem: String,
    /// The CA on this host, for clients that read trust from a file.
    files: tempfile::TempDir,
}

impl std::fmt::Debug for RunningBench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningBench")
            .field("container", &self.container.id())
            .field("proxy_url", &self.proxy_url)
            .finish_non_exhaustive()
    }
}

impl RunningBench {
    pub(crate) async fn new(
        container: ContainerAsync<GenericImage>,
        world: World,
    ) -> Result<Self, Error> {
        let host = container.get_host().await?;
        let proxy_port = container.get_host_port_ipv4(PROXY_PORT).await?;
        let info_port = container.get_host_port_ipv4(INFO_PORT).await?;
        let front_door = format!("http://{host}:{info_port}");
        let ca_pem = fetch(&format!("{front_door}/ca.pem")).await?;
        let files = tempfile::tempdir().map_err(|source| Error::Io {
            path: std::env::temp_dir(),
            source,
        })?;
        let ca_path = files.path().join(CA_FILE);
        std::fs::write(&ca_path, &ca_pem).map_err(|source| Error::Io {
            path: ca_path,
            source,
        })?;
        Ok(Self {
            container,
            world,
            proxy_url: format!("http://{host}:{proxy_port}"),
            front_door,
            ca_pem,
            files,
        })
    }

    /// `https://{vault}.vault.azure.net/`, as clients name it (through the proxy).
    #[must_use]
    pub fn vault_url(&self, vault: &str) -> String {
        format!("https://{vault}.vault.azure.net/")
    }

    /// The tenant's id.
    #[must_use]
    pub fn tenant_id(&self) -> Uuid {
        self.world.tenant_id()
    }

    /// The app registration named `name`: its client id (`app_id`), object id and client secret
    /// (`secrets[0].value`).
    #[must_use]
    pub fn app(&self, name: &str) -> Option<&App> {
        self.world.app(name)
    }

    /// The managed identity named `name`.
    #[must_use]
    pub fn managed_identity(&self, name: &str) -> Option<&ManagedIdentity> {
        self.world.managed_identity(name)
    }

    /// The routing proxy on this host, `http://host:port`: set it as `HTTPS_PROXY`.
    #[must_use]
    pub fn proxy_url(&self) -> &str {
        &self.proxy_url
    }

    /// The container's front door on this host (`/ca.pem`, `/env`, `/env.json`).
    #[must_use]
    pub fn front_door(&self) -> &str {
        &self.front_door
    }

    /// The CA the bench's certificates chain to, PEM.
    #[must_use]
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA as a file on this host (`SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`).
    #[must_use]
    pub fn ca_file(&self) -> PathBuf {
        self.files.path().join(CA_FILE)
    }

    /// The container.
    #[must_use]
    pub fn container(&self) -> &ContainerAsync<GenericImage> {
        &self.container
    }

    /// A client that reaches Azure's host names through the bench's proxy and trusts its CA
    /// only: add headers or timeouts, then `build()`.
    pub fn http_client(&self) -> Result<reqwest::ClientBuilder, Error> {
        let ca = reqwest::Certificate::from_pem(self.ca_pem.as_bytes())
            .map_err(|e| Error::FrontDoor(format!("the CA does not parse: {e}")))?;
        let proxy = reqwest::Proxy::all(&self.proxy_url)
            .map_err(|e| Error::FrontDoor(format!("the proxy URL does not parse: {e}")))?;
        Ok(reqwest::Client::builder()
            .proxy(proxy)
            .add_root_certificate(ca))
    }

    /// The environment an Azure SDK in a child process needs to act as the app `app`: the
    /// proxy, the CA file, the app's credentials (what `EnvironmentCredential` and
    /// `DefaultAzureCredential` read) and `AZURE_KEYVAULT_URL` (the first declared vault).
    pub fn env(&self, app: &str) -> Result<Vec<(String, String)>, Error> {
        let registered = self.app(app).ok_or_else(|| {
            Error::World(format!("no app is called {app} (declare it with with_app)"))
        })?;
        let secret = registered
            .secrets
            .first()
            .ok_or_else(|| Error::World(format!("app {app} has no client secret")))?;
        let ca = self.ca_file().display().to_string();
        let mut env = vec![
            ("HTTPS_PROXY", self.proxy_url.clone()),
            ("HTTP_PROXY", self.proxy_url.clone()),
            ("NO_PROXY", "localhost,127.0.0.1,::1".to_owned()),
            ("SSL_CERT_FILE", ca.clone()),
            ("REQUESTS_CA_BUNDLE", ca.clone()),
            ("NODE_EXTRA_CA_CERTS", ca),
            ("AZURE_TENANT_ID", self.tenant_id().to_string()),
            ("AZURE_CLIENT_ID", registered.app_id.to_string()),
            ("AZURE_CLIENT_SECRET", secret.value.clone()),
        ];
        if let Some(vault) = self.world.vaults().next() {
            env.push(("AZURE_KEYVAULT_URL", self.vault_url(vault)));
        }
        Ok(env
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect())
    }
}

async fn fetch(url: &str) -> Result<String, Error> {
    let failed = |e: &dyn std::fmt::Display| Error::FrontDoor(format!("GET {url}: {e}"));
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| failed(&e))?;
    let response = client.get(url).send().await.map_err(|e| failed(&e))?;
    let response = response.error_for_status().map_err(|e| failed(&e))?;
    response.text().await.map_err(|e| failed(&e))
}
