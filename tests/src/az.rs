//! The pinned Azure CLI: a virtualenv with `tests/az/requirements.txt` (azure-cli from PyPI),
//! built once per (requirements, interpreter version) pair, apart from the client venv because
//! it is large and slow to install.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context, Result};

use crate::cache;

/// `tests/az`: the CLI's requirements.
#[must_use]
pub fn requirements() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("az/requirements.txt")
}

/// The venv's `az`, building the venv first if needed (about a minute cold, 730 MB).
///
/// It lives in `${XDG_CACHE_HOME:-$HOME/.cache}/akv-e2e/az-<hash>`, sharing pip's download
/// cache with the client venv.
pub fn az() -> Result<PathBuf> {
    static READY: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut ready = READY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(path) = ready.as_ref() {
        return Ok(path.clone());
    }
    let requirements = requirements();
    let pinned = std::fs::read(&requirements)
        .with_context(|| format!("reading {}", requirements.display()))?;
    let version =
        cache::run(Command::new("python3").args(["-c", "import sys; print(sys.version)"]))
            .context("python3 is needed for the Azure CLI tests")?;
    let root = cache::root()?;
    let venv = root.join(format!(
        "az-{}",
        cache::short_hash(&[&pinned, version.trim().as_bytes()])
    ));
    let pip_cache = root.join("pip-cache");
    cache::build_once(&venv, |venv| {
        cache::run(Command::new("python3").arg("-m").arg("venv").arg(venv))?;
        cache::run(
            Command::new(venv.join("bin/python"))
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--no-input",
                    "--quiet",
                    "-r",
                ])
                .arg(&requirements)
                .env("PIP_CACHE_DIR", &pip_cache)
                .env_remove("PIP_USER")
                .env_remove("PYTHONPATH"),
        )?;
        Ok(())
    })?;
    let az = venv.join("bin/az");
    *ready = Some(az.clone());
    Ok(az)
}
