//! The pinned Go client: `tests/go` (azidentity + azsecrets, pinned by go.mod and go.sum)
//! built from the module proxy into one binary, once per (sources, Go version) pair.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context, Result};

use crate::cache;

/// `tests/go`: the client module.
#[must_use]
pub fn module_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("go")
}

/// The built `vault-secrets` binary, building it first if needed.
///
/// It lives in `${XDG_CACHE_HOME:-$HOME/.cache}/akv-e2e/go-client-<hash>/`, with Go's build
/// cache beside it; modules come through the module proxy into Go's usual module cache.
pub fn go_client() -> Result<PathBuf> {
    static READY: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut ready = READY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(path) = ready.as_ref() {
        return Ok(path.clone());
    }
    let source = module_dir();
    let mut parts = Vec::new();
    for file in ["go.mod", "go.sum", "main.go"] {
        parts.push(
            std::fs::read(source.join(file)).with_context(|| format!("reading tests/go/{file}"))?,
        );
    }
    let version = cache::run(Command::new("go").args(["env", "GOVERSION"]))
        .context("go is needed for the Go client test")?;
    parts.push(version.trim().as_bytes().to_vec());
    let hashed: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let root = cache::root()?;
    let dir = root.join(format!("go-client-{}", cache::short_hash(&hashed)));
    let go_cache = root.join("gocache-client");
    cache::build_once(&dir, |dir| {
        std::fs::create_dir_all(dir)?;
        cache::run(
            Command::new("go")
                .args(["build", "-mod=readonly", "-trimpath", "-o"])
                .arg(dir.join("vault-secrets"))
                .arg(".")
                .current_dir(&source)
                .env("GOCACHE", &go_cache)
                .env("GOFLAGS", "-buildvcs=false")
                .env("CGO_ENABLED", "0"),
        )?;
        Ok(())
    })?;
    let binary = dir.join("vault-secrets");
    *ready = Some(binary.clone());
    Ok(binary)
}
