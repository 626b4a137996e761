//! `<run dir>/plane.json`: what a running plane is, for `harness status` and `harness down`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File name inside the run directory.
pub const STATE_FILE: &str = "plane.json";

/// One component as `status` sees it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ComponentState {
    /// Name (`etcd`, `kube-apiserver`, ...).
    pub name: String,
    /// Process id.
    pub pid: u32,
    /// The binary.
    pub program: PathBuf,
    /// Version, or `override`.
    pub version: String,
    /// Health URL, if it serves one.
    pub health_url: Option<String>,
    /// True if the health URL is served with the plane's CA (else self-signed or plain HTTP).
    pub uses_plane_ca: bool,
    /// Seconds from spawn to ready.
    pub ready_after_secs: f64,
}

/// A running plane.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct PlaneState {
    /// The admin kubeconfig.
    pub kubeconfig: PathBuf,
    /// `https://127.0.0.1:<port>`.
    pub apiserver_url: String,
    /// The service-account issuer.
    pub issuer: String,
    /// The plane CA file.
    pub ca_file: PathBuf,
    /// Every port the plane uses.
    pub ports: Vec<u16>,
    /// Components in start order.
    pub components: Vec<ComponentState>,
    /// Seconds from start to all ready.
    pub ready_after_secs: f64,
}

impl PlaneState {
    /// Writes `<run_dir>/plane.json`.
    pub fn write(&self, run_dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).expect("plain data serialises");
        std::fs::write(run_dir.join(STATE_FILE), text)
    }

    /// Reads `<run_dir>/plane.json`, if present.
    pub fn read(run_dir: &Path) -> std::io::Result<Option<Self>> {
        match std::fs::read(run_dir.join(STATE_FILE)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(std::io::Error::other),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Removes the state file.
    pub fn remove(run_dir: &Path) {
        let _ = std::fs::remove_file(run_dir.join(STATE_FILE));
    }
}
