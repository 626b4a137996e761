//! Whether a real node can run on this host, and the Debian packages it needs: containerd,
//! runc and the CNI plugins (installed with apt-get when missing), and the static busybox the
//! bench's busybox image is made of (downloaded once into the cache, keyed by its version).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's CNI plugins live here, not in `/opt/cni/bin`.
const CNI_BIN: &str = "/usr/lib/cni";

/// The host programs a real node runs.
#[derive(Clone, Debug)]
pub struct HostTools {
    /// `containerd`.
    pub containerd: PathBuf,
    /// The directory of the CNI plugins (`bridge`, `host-local`, `loopback`).
    pub cni_bin: PathBuf,
    /// A static busybox binary.
    pub busybox: PathBuf,
    /// Its version (Debian's `busybox-static` package version).
    pub busybox_version: String,
    /// Where the node's downloads and built images are cached.
    pub cache: PathBuf,
}

/// Why a real node cannot run here; `--node auto` says it and falls back to kwok.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// `program` on `PATH` or in the system directories a root shell would search.
pub(crate) fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Installs Debian `packages` with apt-get (no recommends, no prompts).
pub(crate) fn apt_install(packages: &[&str]) -> Result<(), Unavailable> {
    if find("apt-get").is_none() {
        return Err(Unavailable(format!(
            "{} missing and there is no apt-get to install it",
            packages.join(", ")
        )));
    }
    tracing::info!(?packages, "installing with apt-get");
    run(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
        &format!("apt-get install {}", packages.join(" ")),
    )
    .map(drop)
}

fn run(command: &mut Command, what: &str) -> Result<String, Unavailable> {
    let output = command
        .output()
        .map_err(|e| Unavailable(format!("{what}: {e}")))?;
    if !output.status.success() {
        return Err(Unavailable(format!(
            "{what} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Checks the host and installs what is missing: Linux, root, containerd, runc and the CNI
/// plugins, a static busybox under `cache`.
pub fn prepare(cache: &Path) -> Result<HostTools, Unavailable> {
    if !cfg!(target_os = "linux") {
        return Err(Unavailable("a real node needs Linux".into()));
    }
    if !nix::unistd::geteuid().is_root() {
        return Err(Unavailable(
            "a real node needs root (containerd and kubelet manage mounts, cgroups and network namespaces)".into(),
        ));
    }
    let complete = || {
        find("containerd").is_some()
            && find("runc").is_some()
            && find("containerd-shim-runc-v2").is_some()
            && Path::new(CNI_BIN).join("bridge").is_file()
    };
    if !complete() {
        apt_install(&["containerd", "runc", "containernetworking-plugins"])?;
        if !complete() {
            return Err(Unavailable(
                "apt-get ran, but containerd, runc or the CNI plugins are still missing".into(),
            ));
        }
    }
    let (busybox, busybox_version) = busybox(cache)?;
    Ok(HostTools {
        containerd: find("containerd").expect("checked above"),
        cni_bin: PathBuf::from(CNI_BIN),
        busybox,
        busybox_version,
        cache: cache.to_path_buf(),
    })
}

/// Debian's `busybox-static`, unpacked once per version under `cache/busybox-<version>/`.
fn busybox(cache: &Path) -> Result<(PathBuf, String), Unavailable> {
    let policy = run(
        Command::new("apt-cache").args(["policy", "busybox-static"]),
        "apt-cache policy busybox-static",
    )?;
    let version = policy
        .lines()
        .find_map(|l| l.trim().strip_prefix("Candidate: "))
        .filter(|v| *v != "(none)")
        .ok_or_else(|| Unavailable("Debian's busybox-static package is not available".into()))?
        .to_owned();
    let dir = cache.join(format!("busybox-{}", version.replace([':', '~'], "_")));
    let binary = dir.join("root/bin/busybox");
    if binary.is_file() {
        return Ok((binary, version));
    }
    let download = dir.join("download");
    std::fs::create_dir_all(&download)
        .map_err(|e| Unavailable(format!("create {}: {e}", download.display())))?;
    run(
        Command::new("apt-get")
            .args(["download", &format!("busybox-static={version}")])
            .current_dir(&download),
        "apt-get download busybox-static",
    )?;
    let deb = std::fs::read_dir(&download)
        .ok()
        .and_then(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|e| e == "deb"))
        })
        .ok_or_else(|| Unavailable("apt-get download left no .deb".into()))?;
    run(
        Command::new("dpkg-deb")
            .arg("-x")
            .arg(&deb)
            .arg(dir.join("root")),
        "dpkg-deb -x busybox-static",
    )?;
    if binary.is_file() {
        Ok((binary, version))
    } else {
        Err(Unavailable(format!(
            "busybox-static unpacked without {}",
            binary.display()
        )))
    }
}
