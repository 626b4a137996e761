//! A [testcontainers](https://docs.rs/testcontainers) module for the bench's image
//! (`harness images bench`): fake Entra ID and Key Vault behind a routing proxy that answers
//! for Azure's real host names, for anyone's integration tests.
//!
//! How the parts fit: [`AkvBench`] declares the world up front in the scenario world's
//! vocabulary (vaults, secrets, app registrations, managed identities, role assignments) and
//! starts the container with that world as its directory and vault files ([`world`] turns the
//! declaration into them). [`RunningBench`] is the started container: vault URLs, the tenant
//! and the apps' credentials, the CA fetched from the container's front door, an HTTP client
//! configuration that goes through the container's proxy and trusts that CA, and the
//! environment to hand an Azure SDK in a child process.
//!
//! ```no_run
//! # async fn demo() -> Result<(), akv_e2e_testcontainers::Error> {
//! use akv_e2e_testcontainers::AkvBench;
//!
//! let bench = AkvBench::default()
//!     .with_vault("my-key-vault")
//!     .with_secret("my-key-vault", "db-password", "s3cret")
//!     .with_app("my-service")
//!     .with_role("my-service", "Key Vault Secrets User", "my-key-vault")
//!     .start()
//!     .await?;
//! let env = bench.env("my-service")?; // HTTPS_PROXY, SSL_CERT_FILE, AZURE_CLIENT_ID, ...
//! # Ok(()) }
//! ```

mod running;
pub mod world;

use std::path::PathBuf;

use fake_kit::container::{IMAGE_NAME, INFO_PORT, PROXY_PORT, STATE_DIR};
use testcontainers::core::{ContainerPort, Mount, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerRequest, GenericImage, ImageExt};

pub use running::RunningBench;
pub use world::World;

/// Where the declared world is copied in the container.
const DIRECTORY_FILE: &str = "/config/directory.json";
const VAULTS_FILE: &str = "/config/vaults.json";
/// The vault state `harness serve` keeps in its state directory.
const VAULT_STATE: &str = "vault-state.json";

/// Why the bench could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The declared world names something it does not declare.
    #[error("{0}")]
    World(String),
    /// Docker refused, or the container did not become ready.
    #[error(
        "{0} (is the image built? `harness images bench` builds {IMAGE_NAME}:{tag})",
        tag = env!("CARGO_PKG_VERSION")
    )]
    Container(#[from] testcontainers::TestcontainersError),
    /// The container's front door did not give the CA or the environment.
    #[error("the bench's front door: {0}")]
    FrontDoor(String),
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The bench, declared; [`AkvBench::start`] runs it.
#[derive(Clone, Debug)]
pub struct AkvBench {
    name: String,
    tag: String,
    world: World,
    state_dir: Option<PathBuf>,
}

impl Default for AkvBench {
    /// An empty world in one tenant, from the image of this module's version.
    fn default() -> Self {
        Self {
            name: IMAGE_NAME.to_owned(),
            tag: env!("CARGO_PKG_VERSION").to_owned(),
            world: World::default(),
            state_dir: None,
        }
    }
}

impl AkvBench {
    /// Another image name and tag.
    #[must_use]
    pub fn with_image(mut self, name: impl Into<String>, tag: impl Into<String>) -> Self {
        self.name = name.into();
        self.tag = tag.into();
        self
    }

    /// An RBAC vault, `https://{name}.vault.azure.net`, in the tenant.
    #[must_use]
    pub fn with_vault(mut self, name: &str) -> Self {
        self.world.add_vault(name);
        self
    }

    /// A secret present when the vault is created.
    #[must_use]
    pub fn with_secret(mut self, vault: &str, name: &str, value: &str) -> Self {
        self.world.add_secret(vault, name, value);
        self
    }

    /// An app registration with one client secret; its display name is `name`.
    #[must_use]
    pub fn with_app(mut self, name: &str) -> Self {
        self.world.add_app(name);
        self
    }

    /// A user-assigned managed identity (reached through IMDS via the proxy).
    #[must_use]
    pub fn with_managed_identity(mut self, name: &str) -> Self {
        self.world.add_managed_identity(name);
        self
    }

    /// A role assignment on the whole vault for an app or managed identity, by name
    /// (`Key Vault Secrets User`, `Key Vault Secrets Officer`, ...).
    #[must_use]
    pub fn with_role(mut self, principal: &str, role: &str, vault: &str) -> Self {
        self.world.add_role(principal, role, vault, "/");
        self
    }

    /// A role assignment on one object (`/secrets/{name}`, `/keys/{name}`, ...).
    #[must_use]
    pub fn with_role_at(mut self, principal: &str, role: &str, vault: &str, scope: &str) -> Self {
        self.world.add_role(principal, role, vault, scope);
        self
    }

    /// Keeps the bench's state (CA, directory, every acknowledged vault write) in `dir` on
    /// this host, so a later bench on the same directory serves it again. The container runs
    /// as the directory's owner. A directory that already holds state is served as it is: the
    /// declared world only seeds an empty one.
    #[must_use]
    pub fn with_state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// Starts the container and waits until it serves.
    pub async fn start(self) -> Result<RunningBench, Error> {
        let image = GenericImage::new(self.name, self.tag)
            .with_exposed_port(ContainerPort::Tcp(PROXY_PORT))
            .with_exposed_port(ContainerPort::Tcp(INFO_PORT))
            .with_wait_for(WaitFor::message_on_stderr(fake_kit::container::READY_LINE));
        let mut request = ContainerRequest::from(image);
        if let Some(dir) = &self.state_dir {
            use std::os::unix::fs::MetadataExt as _;
            let owner = std::fs::metadata(dir).map_err(|source| Error::Io {
                path: dir.clone(),
                source,
            })?;
            request = request
                .with_mount(Mount::bind_mount(dir.display().to_string(), STATE_DIR))
                .with_user(format!("{}:{}", owner.uid(), owner.gid()));
        }
        let kept = self
            .state_dir
            .as_deref()
            .filter(|dir| dir.join(VAULT_STATE).exists());
        let world = if let Some(dir) = kept {
            World::from_state_dir(dir)?
        } else {
            let (directory, vaults) = self.world.files()?;
            request = request
                .with_copy_to(DIRECTORY_FILE, directory)
                .with_copy_to(VAULTS_FILE, vaults)
                .with_cmd([
                    "serve",
                    "--directory",
                    DIRECTORY_FILE,
                    "--vaults",
                    VAULTS_FILE,
                ]);
            self.world
        };
        let container = request.start().await?;
        RunningBench::new(container, world).await
    }
}
