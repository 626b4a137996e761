//! The pinned Node.js client environment: `npm ci` of `tests/node/package.json` and its lock
//! file, built once per (lock file, node version) pair.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context, Result};

use crate::cache;

/// `tests/node`: the client scripts, `package.json` and `package-lock.json`.
#[must_use]
pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("node")
}

/// The `node_modules` directory holding the pinned packages, installing them first if needed.
///
/// It lives in `${XDG_CACHE_HOME:-$HOME/.cache}/akv-e2e/node-<hash>/node_modules`, with npm's
/// cache beside it; scripts find it through `NODE_PATH`.
pub fn node_modules() -> Result<PathBuf> {
    static READY: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut ready = READY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(path) = ready.as_ref() {
        return Ok(path.clone());
    }
    let source = scripts_dir();
    let manifest = std::fs::read(source.join("package.json")).context("reading package.json")?;
    let lock =
        std::fs::read(source.join("package-lock.json")).context("reading package-lock.json")?;
    let version = cache::run(Command::new("node").arg("--version"))
        .context("node is needed for the e2e Node client tests")?;
    let root = cache::root()?;
    let dir = root.join(format!(
        "node-{}",
        cache::short_hash(&[&manifest, &lock, version.trim().as_bytes()])
    ));
    let npm_cache = root.join("npm-cache");
    cache::build_once(&dir, |dir| {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("package.json"), &manifest)?;
        std::fs::write(dir.join("package-lock.json"), &lock)?;
        cache::run(
            Command::new("npm")
                .args([
                    "ci",
                    "--no-audit",
                    "--no-fund",
                    "--ignore-scripts",
                    "--loglevel=error",
                ])
                .current_dir(dir)
                .env("npm_config_cache", &npm_cache)
                .env("npm_config_update_notifier", "false"),
        )?;
        Ok(())
    })?;
    let modules = dir.join("node_modules");
    *ready = Some(modules.clone());
    Ok(modules)
}
