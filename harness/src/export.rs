//! `harness export` / `harness import`: a bench's whole state (the Entra directory, and every
//! vault with all versions and soft-deleted objects) as one readable YAML file, so a bug report
//! can carry exact vault contents and anyone can start a bench from it.
//!
//! The state directory is always current on disk (fake-aad journals its directory, fake-akv
//! persists every acknowledged write), so export reads the files and works with or without a
//! running bench. Import refuses a state directory a bench is serving.

use std::path::{Path, PathBuf};

use fake_aad::Directory;
use fake_akv::Snapshot;
use serde::{Deserialize, Serialize};

use crate::serve::{DIRECTORY_STATE_FILE, SERVE_INFO_FILE, ServeInfo, VAULT_STATE_FILE};

/// The export format this build writes and reads.
pub const FORMAT: u32 = 1;

/// Why an export or import failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file does not hold what it should.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A bench is serving the state directory.
    #[error("a bench (pid {pid}) is serving {state_dir}; stop it before importing")]
    Serving {
        /// The state directory.
        state_dir: PathBuf,
        /// The serving process.
        pid: u32,
    },
}

/// The whole state of a bench.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateExport {
    /// [`FORMAT`].
    pub format: u32,
    /// fake-aad's directory: tenants, apps with their credentials, managed identities.
    pub directory: Directory,
    /// fake-akv's vaults: configuration, objects, versions, deletions.
    pub vaults: Snapshot,
}

impl StateExport {
    /// The state kept in `state_dir`.
    pub fn read(state_dir: &Path) -> Result<Self, ExportError> {
        let path = state_dir.join(DIRECTORY_STATE_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| ExportError::Io {
            path: path.clone(),
            source,
        })?;
        let directory = Directory::from_yaml(&text).map_err(|e| ExportError::Invalid {
            path,
            message: e.to_string(),
        })?;
        let path = state_dir.join(VAULT_STATE_FILE);
        let vaults = Snapshot::load(&path)
            .map_err(|e| ExportError::Invalid {
                path: path.clone(),
                message: e.to_string(),
            })?
            .ok_or_else(|| ExportError::Invalid {
                path,
                message: "no vault state (has `harness serve` run on this directory?)".into(),
            })?;
        Ok(Self {
            format: FORMAT,
            directory,
            vaults,
        })
    }

    /// As YAML.
    #[must_use]
    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(self).expect("the state serialises")
    }

    /// Parses an export (YAML or JSON) read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ExportError> {
        let export: Self = serde_yaml_ng::from_str(text).map_err(|e| ExportError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        if export.format != FORMAT {
            return Err(ExportError::Invalid {
                path: path.to_owned(),
                message: format!(
                    "export format {} is not supported (this build reads {FORMAT})",
                    export.format
                ),
            });
        }
        // Refuse what a bench would refuse at start, before anything is written.
        fake_akv::AppState::from_snapshot(
            export.vaults.clone(),
            fake_kit::Clock::system(),
            fake_akv::Settings::default(),
        )
        .map_err(|e| ExportError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Ok(export)
    }

    /// Replaces the state kept in `state_dir` (crash-safely, file by file); a bench started on
    /// it afterwards serves exactly this state.
    pub fn write(&self, state_dir: &Path) -> Result<(), ExportError> {
        if let Some(pid) = serving_pid(state_dir) {
            return Err(ExportError::Serving {
                state_dir: state_dir.to_owned(),
                pid,
            });
        }
        std::fs::create_dir_all(state_dir).map_err(|source| ExportError::Io {
            path: state_dir.to_owned(),
            source,
        })?;
        let path = state_dir.join(DIRECTORY_STATE_FILE);
        let text = serde_json::to_vec_pretty(&self.directory).expect("a directory serialises");
        fake_kit::durable::write_atomic(&path, &text)
            .map_err(|source| ExportError::Io { path, source })?;
        let path = state_dir.join(VAULT_STATE_FILE);
        self.vaults.save(&path).map_err(|e| ExportError::Invalid {
            path,
            message: e.to_string(),
        })
    }
}

/// The pid of a live bench serving `state_dir`, if any.
fn serving_pid(state_dir: &Path) -> Option<u32> {
    if !state_dir.join(SERVE_INFO_FILE).exists() {
        return None;
    }
    let info = ServeInfo::load(state_dir).ok()?;
    let pid = i32::try_from(info.pid).ok()?;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None)
        .is_ok()
        .then_some(info.pid)
}
