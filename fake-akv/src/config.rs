//! Command-line flags (and `FAKE_AKV_*` variables), validated into what the server needs.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::state::Settings;
use crate::vault::EmulatorConfig;

/// An Azure Key Vault data-plane emulator for local tests: many vaults routed by host name
/// (`{vault}.vault.azure.net`, `{vault}.localhost`, or a default vault on the bare address),
/// secrets with soft delete and backup/restore, RBAC and access policies, over TLS from a
/// local CA. Admin API under /_emulator.
#[derive(Debug, Parser)]
#[command(name = "fake-akv", version)]
pub struct Args {
    /// HTTPS listen address.
    #[arg(long, env = "FAKE_AKV_LISTEN", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Vault configuration file (YAML or JSON): vaults, role assignments, access policies,
    /// seed secrets, default vault.
    #[arg(long, env = "FAKE_AKV_CONFIG")]
    pub config: Option<PathBuf>,
    /// Vault answering requests whose host names no vault (overrides the file's defaultVault).
    #[arg(long, env = "FAKE_AKV_DEFAULT_VAULT")]
    pub default_vault: Option<String>,
    /// Base URL of the Entra emulator (fake-aad) whose keys sign accepted tokens.
    #[arg(long, env = "FAKE_AKV_AAD_URL")]
    pub aad_url: Option<String>,
    /// CA certificate (PEM) to trust when fetching the Entra keys; defaults to the local CA.
    #[arg(long, env = "FAKE_AKV_AAD_CA")]
    pub aad_ca: Option<PathBuf>,
    /// Where the local CA lives (`ca.pem`, `ca-key.pem`); created when absent. Share it with
    /// fake-aad so clients trust one CA.
    #[arg(long, env = "FAKE_AKV_STATE_DIR", default_value_os_t = std::env::temp_dir().join("fake-aad"))]
    pub state_dir: PathBuf,
    /// Extra names for the TLS certificate, besides Azure's host names and localhost.
    #[arg(long = "tls-name", env = "FAKE_AKV_TLS_NAMES", value_delimiter = ',')]
    pub tls_names: Vec<String>,
    /// Keep the vaults durably in this file: every acknowledged write is on disk before the
    /// response, and a restart resumes from it (the configuration file only seeds a new one).
    #[arg(long, env = "FAKE_AKV_STATE_FILE")]
    pub state_file: Option<PathBuf>,
    /// `x-ms-keyvault-service-version` to report.
    #[arg(long, env = "FAKE_AKV_SERVICE_VERSION", default_value = "1.9.3070.1")]
    pub service_version: String,
    /// Authority in the 401 challenge (`authorization="{authority}/{tenant}"`) of global-cloud
    /// vaults; a sovereign vault host names its own cloud's login host.
    #[arg(
        long,
        env = "FAKE_AKV_CHALLENGE_AUTHORITY",
        default_value = "https://login.microsoftonline.com"
    )]
    pub challenge_authority: String,
}

/// Errors while turning flags into configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The configuration file does not parse.
    #[error("invalid configuration file {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why, with line and column.
        #[source]
        source: serde_yaml_ng::Error,
    },
}

fn read(path: &PathBuf) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })
}

impl Args {
    /// The vault configuration (no vaults without a file).
    pub fn emulator_config(&self) -> Result<EmulatorConfig, ConfigError> {
        let mut config = match &self.config {
            None => EmulatorConfig::default(),
            Some(path) => {
                EmulatorConfig::from_yaml(&read(path)?).map_err(|source| ConfigError::Parse {
                    path: path.clone(),
                    source,
                })?
            }
        };
        if let Some(name) = &self.default_vault {
            config.default_vault = Some(name.clone());
        }
        Ok(config)
    }

    /// The PEM to trust for the Entra keys: `--aad-ca`, else the local CA's certificate.
    pub fn aad_ca_pem(&self, local_ca_pem: &str) -> Result<String, ConfigError> {
        match &self.aad_ca {
            Some(path) => read(path),
            None => Ok(local_ca_pem.to_owned()),
        }
    }

    /// Settings from the flags.
    #[must_use]
    pub fn settings(&self) -> Settings {
        Settings {
            service_version: self.service_version.clone(),
            challenge_authority: self.challenge_authority.clone(),
            state_file: self.state_file.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn flags_are_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn default_vault_flag_overrides_the_file() {
        let args = Args::parse_from(["fake-akv", "--default-vault", "kv9"]);
        let config = args.emulator_config().unwrap();
        assert_eq!(config.default_vault.as_deref(), Some("kv9"));
        assert!(config.vaults.is_empty());
        assert_eq!(args.listen.ip().to_string(), "127.0.0.1");
    }
}
