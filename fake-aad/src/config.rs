//! Command-line flags (and `FAKE_AAD_*` variables), validated into what the server needs.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::directory::Directory;
use crate::state::Settings;

/// An Entra ID emulator for local tests: OAuth2 v1/v2 token endpoints, discovery, JWKS and a
/// managed-identity endpoint, over TLS from a local CA.
#[derive(Debug, Parser)]
#[command(name = "fake-aad", version)]
pub struct Args {
    /// HTTPS listen address (token endpoints, discovery, admin API under /_emulator).
    #[arg(long, env = "FAKE_AAD_LISTEN", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Plain-HTTP listen address of the managed-identity (IMDS / App Service) endpoint.
    #[arg(long, env = "FAKE_AAD_IMDS_LISTEN", default_value = "127.0.0.1:0")]
    pub imds_listen: SocketAddr,
    /// Directory file (YAML or JSON): tenants, apps, secrets, managed identities, issuers.
    #[arg(long, env = "FAKE_AAD_DIRECTORY")]
    pub directory: Option<PathBuf>,
    /// Where the local CA lives (`ca.pem`, `ca-key.pem`); created when absent.
    #[arg(long, env = "FAKE_AAD_STATE_DIR", default_value_os_t = std::env::temp_dir().join("fake-aad"))]
    pub state_dir: PathBuf,
    /// Extra names for the TLS certificate, besides Azure's host names and localhost.
    #[arg(long = "tls-name", env = "FAKE_AAD_TLS_NAMES", value_delimiter = ',')]
    pub tls_names: Vec<String>,
    /// Access-token lifetime in seconds.
    #[arg(long, env = "FAKE_AAD_TOKEN_LIFETIME", default_value_t = 3599)]
    pub token_lifetime: i64,
    /// Secret that App Service style clients must send (`IDENTITY_HEADER`); random when unset.
    #[arg(long, env = "FAKE_AAD_IDENTITY_HEADER")]
    pub identity_header: Option<String>,
}

/// Errors while turning flags into configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The directory file could not be read.
    #[error("cannot read directory file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The directory file is not a valid directory.
    #[error("invalid directory file {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why, with line and column.
        #[source]
        source: serde_yaml_ng::Error,
    },
}

impl Args {
    /// Loads the directory file (an empty directory without one).
    pub fn directory(&self) -> Result<Directory, ConfigError> {
        let Some(path) = &self.directory else {
            return Ok(Directory::default());
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        Directory::from_yaml(&text).map_err(|source| ConfigError::Parse {
            path: path.clone(),
            source,
        })
    }

    /// Settings from the flags.
    #[must_use]
    pub fn settings(&self) -> Settings {
        let mut settings = Settings {
            token_lifetime: self.token_lifetime,
            ..Settings::default()
        };
        if let Some(header) = &self.identity_header {
            settings.identity_header.clone_from(header);
        }
        settings
    }
}
