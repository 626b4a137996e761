//! The pinned Python client environment: a virtualenv with the packages of
//! `tests/py/requirements.txt`, built once per (requirements, interpreter version) pair.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context, Result};

use crate::cache;

/// `tests/py`: the client scripts and their requirements.
#[must_use]
pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("py")
}

/// The virtualenv's interpreter, building the venv first if needed.
///
/// The venv lives in `${XDG_CACHE_HOME:-$HOME/.cache}/akv-e2e/venv-<hash>` (hash of the
/// requirements file and `python3`'s version), and pip's download cache beside it, so nothing
/// is installed anywhere else. A warm call costs one `python3 -c` per process.
pub fn python() -> Result<PathBuf> {
    Ok(venv("venv", &scripts_dir().join("requirements.txt"))?.join("bin/python"))
}

/// A virtualenv with exactly `requirements` installed, in
/// `${XDG_CACHE_HOME:-$HOME/.cache}/akv-e2e/<prefix>-<hash>` (hash of the requirements and of
/// `python3`'s version), built once under a file lock and remembered for the process.
pub fn venv(prefix: &str, requirements: &Path) -> Result<PathBuf> {
    static READY: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut ready = READY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(path) = ready.get(prefix) {
        return Ok(path.clone());
    }
    let pinned = std::fs::read(requirements)
        .with_context(|| format!("reading {}", requirements.display()))?;
    let version =
        cache::run(Command::new("python3").args(["-c", "import sys; print(sys.version)"]))
            .context("python3 is needed for the e2e client tests")?;
    let root = cache::root()?;
    let venv = root.join(format!(
        "{prefix}-{}",
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
                .arg(requirements)
                .env("PIP_CACHE_DIR", &pip_cache)
                .env_remove("PIP_USER")
                .env_remove("PYTHONPATH"),
        )?;
        Ok(())
    })?;
    ready.insert(prefix.to_owned(), venv.clone());
    Ok(venv)
}
