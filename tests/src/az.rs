//! The pinned Azure CLI: a virtualenv with `tests/az/requirements.txt` (azure-cli from PyPI),
//! built once per (requirements, interpreter version) pair, apart from the client venv because
//! it is large and slow to install.

use std::path::{Path, PathBuf};

use anyhow::Result;

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
    Ok(crate::python::venv("az", &requirements())?.join("bin/az"))
}
