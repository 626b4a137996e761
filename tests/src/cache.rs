//! Client environments built once and reused: a directory under
//! `${XDG_CACHE_HOME:-$HOME/.cache}/akv-e2e/`, built under an exclusive OS file lock and
//! marked ready by a file written last, so a build that died half-way is redone and parallel
//! test binaries never build the same directory twice.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// The name of the file that marks a built directory as complete.
const READY_MARKER: &str = ".akv-e2e-ready";

/// `${XDG_CACHE_HOME:-$HOME/.cache}/akv-e2e`, created if missing.
pub fn root() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(
            std::env::var_os("HOME").context("neither XDG_CACHE_HOME nor HOME is set")?,
        )
        .join(".cache"),
    };
    let root = base.join("akv-e2e");
    fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    Ok(root)
}

/// The first 12 hex digits of SHA-256 over `parts`, each length-prefixed so that moving bytes
/// between parts changes the hash.
#[must_use]
pub fn short_hash(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hex(&hasher.finalize()[..6])
}

/// Lower-case hex of `bytes`.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        write!(out, "{b:02x}").expect("writing to a String cannot fail");
        out
    })
}

/// Returns `dir` once it is built, running `build(dir)` first unless a previous build finished.
///
/// The fast path (marker present) takes no lock. Otherwise the builder holds `{dir}.lock`,
/// looks again (another process may have just finished), removes any half-built `dir`, builds
/// and writes the marker last.
pub fn build_once(dir: &Path, build: impl FnOnce(&Path) -> Result<()>) -> Result<PathBuf> {
    let marker = dir.join(READY_MARKER);
    if marker.exists() {
        return Ok(dir.to_owned());
    }
    let lock_path = dir.with_extension("lock");
    let lock = File::create(&lock_path)
        .with_context(|| format!("creating lock file {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("locking {}", lock_path.display()))?;
    if marker.exists() {
        return Ok(dir.to_owned());
    }
    if dir.exists() {
        fs::remove_dir_all(dir)
            .with_context(|| format!("removing half-built {}", dir.display()))?;
    }
    build(dir).with_context(|| format!("building {}", dir.display()))?;
    fs::write(&marker, b"ready\n").with_context(|| format!("writing {}", marker.display()))?;
    // The lock is released when `lock` drops.
    Ok(dir.to_owned())
}

/// Runs `command` to completion, failing with its exit status and the tail of its output.
pub fn run(command: &mut Command) -> Result<String> {
    let output = command
        .output()
        .with_context(|| format!("starting {command:?}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!(
            "{command:?} failed ({}):\n{}\n{}",
            output.status,
            tail(&stdout, 40),
            tail(&stderr, 40)
        );
    }
    Ok(stdout)
}

/// The last `lines` lines of `text`.
#[must_use]
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_hash_separates_parts() {
        assert_ne!(short_hash(&[b"ab", b"c"]), short_hash(&[b"a", b"bc"]));
        assert_eq!(short_hash(&[b"x"]).len(), 12);
    }

    #[test]
    fn build_once_redoes_a_half_built_directory_and_then_reuses_it() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().join("env-1");
        fs::create_dir_all(dir.join("leftover")).unwrap();
        let mut builds = 0;
        build_once(&dir, |d| {
            builds += 1;
            assert!(!d.join("leftover").exists(), "half-built dir not removed");
            fs::create_dir_all(d)?;
            Ok(())
        })
        .unwrap();
        build_once(&dir, |_| {
            builds += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(builds, 1);
    }
}
