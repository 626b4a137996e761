//! The bench's image: `harness serve` in a container, built from a harness binary with no
//! base image (nothing can be pulled): `FROM scratch`, the binary with its debug info
//! stripped, and the shared libraries it loads copied from this host at their own paths.
//!
//! The container runs as an unprivileged user ([`USER`]) and is configured by `harness serve`'s
//! flags or their environment variables. It listens on fixed ports: [`PROXY_PORT`] (the
//! routing proxy clients point `HTTPS_PROXY` at) and [`INFO_PORT`] (the CA and the client
//! environment over plain HTTP); its state directory is [`STATE_DIR`], a volume to mount for
//! durability (writable by that user, or run with `--user`), where the CA (`ca.pem`) and the
//! client environment (`bench.env`) are written too.

use std::path::{Path, PathBuf};
use std::process::Command;

pub use fake_kit::container::{INFO_PORT, PROXY_PORT, STATE_DIR, USER};

use super::{Docker, DockerError};

/// The image's default name:tag: the workspace's version, so the testcontainers module of the
/// same version finds it.
pub const DEFAULT_TAG: &str = concat!("akv-e2e-bench:", env!("CARGO_PKG_VERSION"));

/// A built image.
#[derive(Clone, Debug)]
pub struct Built {
    /// `name:tag`.
    pub tag: String,
    /// Its size as Docker reports it, bytes.
    pub size: u64,
}

impl Built {
    /// The size in megabytes (10^6 bytes), for reports.
    #[must_use]
    pub fn megabytes(&self) -> f64 {
        f64::from(u32::try_from(self.size / 1000).unwrap_or(u32::MAX)) / 1000.0
    }
}

/// Builds the image of `binary` (a harness executable) as `tag`.
pub fn build(docker: &Docker, binary: &Path, tag: &str) -> Result<Built, DockerError> {
    let failed = |what: &str, message: String| DockerError::Command {
        what: what.to_owned(),
        message,
    };
    let context = tempfile::tempdir().map_err(|e| failed("a build context", e.to_string()))?;
    let dir = context.path();
    copy_stripped(binary, &dir.join("harness"))
        .map_err(|e| failed("copying the harness binary", e.to_string()))?;
    for library in shared_libraries(binary)? {
        let inside = dir
            .join("root")
            .join(library.strip_prefix("/").unwrap_or(&library));
        let copy = || -> std::io::Result<()> {
            std::fs::create_dir_all(inside.parent().expect("a library path has a parent"))?;
            std::fs::copy(&library, &inside).map(drop)
        };
        copy().map_err(|e| failed(&format!("copying {}", library.display()), e.to_string()))?;
    }
    std::fs::create_dir_all(dir.join("root/etc"))
        .and_then(|()| std::fs::create_dir_all(dir.join("state")))
        .and_then(|()| {
            std::fs::write(
                dir.join("root/etc/passwd"),
                format!("bench:x:{USER}:{USER}:bench:{STATE_DIR}:/sbin/nologin\n"),
            )
        })
        .and_then(|()| std::fs::write(dir.join("Dockerfile"), dockerfile()))
        .map_err(|e| failed("writing the build context", e.to_string()))?;
    let context_arg = dir.display().to_string();
    docker.run(&["build", "--quiet", "--tag", tag, &context_arg])?;
    let size = docker
        .run(&["image", "inspect", "--format", "{{.Size}}", tag])?
        .trim()
        .parse()
        .unwrap_or(0);
    Ok(Built {
        tag: tag.to_owned(),
        size,
    })
}

fn dockerfile() -> String {
    format!(
        "FROM scratch
COPY root/ /
COPY harness /usr/local/bin/harness
COPY --chown={USER}:{USER} state {STATE_DIR}
USER {USER}:{USER}
ENV HARNESS_STATE_DIR={STATE_DIR} \\
    HARNESS_ENV_FILE={STATE_DIR}/bench.env \\
    HARNESS_PROXY_LISTEN=0.0.0.0:{PROXY_PORT} \\
    HARNESS_INFO_LISTEN=0.0.0.0:{INFO_PORT}
EXPOSE {PROXY_PORT} {INFO_PORT}
ENTRYPOINT [\"/usr/local/bin/harness\"]
CMD [\"serve\"]
"
    )
}

/// A copy without debug info (a debug build is ~450 MB with it, ~60 MB without); a plain copy
/// when `strip` is missing.
fn copy_stripped(binary: &Path, to: &Path) -> std::io::Result<()> {
    let stripped = Command::new("strip")
        .arg("--strip-debug")
        .arg("-o")
        .arg(to)
        .arg(binary)
        .status()
        .is_ok_and(|s| s.success());
    if stripped {
        Ok(())
    } else {
        std::fs::copy(binary, to).map(drop)
    }
}

/// The shared libraries `binary` loads, and its loader, as `ldd` lists them (none for a
/// static binary).
fn shared_libraries(binary: &Path) -> Result<Vec<PathBuf>, DockerError> {
    let output = Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|e| DockerError::Command {
            what: "ldd".to_owned(),
            message: e.to_string(),
        })?;
    Ok(parse_ldd(&String::from_utf8_lossy(&output.stdout)))
}

fn parse_ldd(text: &str) -> Vec<PathBuf> {
    text.lines()
        .filter_map(|line| {
            let path = match line.split_once("=>") {
                Some((_, target)) => target.trim(),
                None => line.trim(),
            };
            let path = path.split_whitespace().next()?;
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_lines_give_libraries_and_the_loader_but_not_the_vdso() {
        let text = "\tlinux-vdso.so.1 (0x00007ffd)\n\
            \tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f3b)\n\
            \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f3b)\n\
            \t/lib64/ld-linux-x86-64.so.2 (0x00007f3b)\n";
        assert_eq!(
            parse_ldd(text),
            [
                "/lib/x86_64-linux-gnu/libgcc_s.so.1",
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib64/ld-linux-x86-64.so.2"
            ]
            .map(PathBuf::from)
        );
        assert!(parse_ldd("\tstatically linked\n").is_empty());
    }
}
