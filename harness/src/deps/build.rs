//! `go build` of the wrapper modules, with the exact commands of `tools/go/README.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::{Component, DepsConfig, DepsError, Toolchain, Wrapper, resolve};

/// A build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Locating or reading failed.
    #[error(transparent)]
    Deps(#[from] DepsError),
    /// `go build` failed; the log tail is included.
    #[error(
        "building {component} failed ({status}); full log: {log}\n--- build log tail ---\n{tail}"
    )]
    Failed {
        /// What was built.
        component: Component,
        /// The exit status.
        status: String,
        /// The build log.
        log: PathBuf,
        /// Its last lines.
        tail: String,
    },
    /// Output files could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// What happened to one component.
#[derive(Clone, Debug)]
pub enum BuildOutcome {
    /// Already in the cache.
    Cached(PathBuf),
    /// Replaced by its env var.
    Override(PathBuf),
    /// Built now, in this long.
    Built(PathBuf, Duration),
}

/// Builds every component in `components` that is not in the cache (and not overridden).
///
/// `versions` maps a wrapper directory (`etcd`, `kubernetes`, `kwok`, `eso`) to a requested
/// version; only the version the wrapper pins is accepted.
pub fn build_missing(
    config: &DepsConfig,
    components: &[Component],
    versions: &BTreeMap<&'static str, String>,
) -> Result<Vec<(Component, BuildOutcome)>, BuildError> {
    for (wrapper_dir, requested) in versions {
        let component = Component::BUILT
            .into_iter()
            .find(|c| c.wrapper_dir() == *wrapper_dir)
            .expect("version flags name known wrappers");
        let wrapper = Wrapper::read(&config.wrappers.join(wrapper_dir), component)?;
        let requested_v = if requested.starts_with('v') {
            requested.clone()
        } else {
            format!("v{requested}")
        };
        if requested_v != wrapper.version {
            return Err(DepsError::UnsupportedVersion {
                component: wrapper_dir,
                requested: requested.clone(),
                pinned: wrapper.version,
                wrapper: wrapper.dir,
            }
            .into());
        }
    }
    // Every builder (`harness deps`, `harness run`, test binaries side by side) takes this
    // lock, then looks in the cache again: what another built while it waited is not rebuilt.
    std::fs::create_dir_all(&config.bin_root).map_err(|source| BuildError::Io {
        path: config.bin_root.clone(),
        source,
    })?;
    let lock_path = config.bin_root.join(".build.lock");
    let lock = std::fs::File::create(&lock_path).map_err(|source| BuildError::Io {
        path: lock_path.clone(),
        source,
    })?;
    lock.lock().map_err(|source| BuildError::Io {
        path: lock_path,
        source,
    })?;
    let mut toolchain: Option<Toolchain> = None;
    let mut outcomes = Vec::new();
    for &component in components {
        if let Some(resolved) = resolve(config, component, &mut toolchain)? {
            let outcome = if resolved.version == "override" {
                BuildOutcome::Override(resolved.path)
            } else {
                BuildOutcome::Cached(resolved.path)
            };
            outcomes.push((component, outcome));
            continue;
        }
        if toolchain.is_none() {
            toolchain = Some(Toolchain::detect()?);
        }
        let toolchain = toolchain.as_ref().expect("just set");
        let wrapper = Wrapper::read(&config.wrappers.join(component.wrapper_dir()), component)?;
        let (path, took) = build_one(config, toolchain, &wrapper, component)?;
        outcomes.push((component, BuildOutcome::Built(path, took)));
    }
    Ok(outcomes)
}

fn build_one(
    config: &DepsConfig,
    toolchain: &Toolchain,
    wrapper: &Wrapper,
    component: Component,
) -> Result<(PathBuf, Duration), BuildError> {
    let out_dir = wrapper.bin_dir(&config.bin_root, &toolchain.version);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BuildError::Io { path, source }
    };
    std::fs::create_dir_all(&out_dir).map_err(io(&out_dir))?;
    let log_dir = config.bin_root.join("logs");
    std::fs::create_dir_all(&log_dir).map_err(io(&log_dir))?;
    let log = log_dir.join(format!(
        "{}-{}-{}.build.log",
        component.binary(),
        wrapper.version,
        toolchain.version
    ));
    let final_path = out_dir.join(component.binary());
    // Build beside the final name and rename, so an interrupted build never leaves a binary
    // that a later run would take for a finished one.
    let partial = out_dir.join(format!("{}.partial", component.binary()));

    let ldflags = ldflags(component, &wrapper.version);
    let log_file = std::fs::File::create(&log).map_err(io(&log))?;
    let log_err = log_file.try_clone().map_err(io(&log))?;
    let mut command = Command::new("nice");
    command
        .args([
            "-n",
            "19",
            "go",
            "build",
            "-mod=readonly",
            "-trimpath",
            "-ldflags",
        ])
        .arg(&ldflags)
        .arg("-o")
        .arg(&partial)
        .arg(component.main_package())
        .current_dir(&wrapper.dir)
        .env("CGO_ENABLED", "0")
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err);

    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .expect("static template is valid"),
    );
    spinner.set_message(format!(
        "building {component} {} ({})",
        wrapper.version, toolchain.version
    ));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let started = Instant::now();
    let status = command.status().map_err(io(Path::new("nice")))?;
    let took = started.elapsed();
    if !status.success() {
        spinner.finish_with_message(format!("FAILED {component} after {took:.0?}"));
        let _ = std::fs::remove_file(&partial);
        return Err(BuildError::Failed {
            component,
            status: status.to_string(),
            tail: crate::supervise::log_tail(&log),
            log,
        });
    }
    std::fs::rename(&partial, &final_path).map_err(io(&final_path))?;
    wrapper.write_stamp(&out_dir).map_err(io(&out_dir))?;
    spinner.finish_with_message(format!(
        "built {component} {} in {:.0?} -> {}",
        wrapper.version,
        took,
        final_path.display()
    ));
    if spinner.is_hidden() {
        eprintln!(
            "built {component} {} in {took:.0?} -> {}",
            wrapper.version,
            final_path.display()
        );
    }
    Ok((final_path, took))
}

/// `-ldflags` for `component`: stripped, with the version stamps its own release build sets.
fn ldflags(component: Component, version: &str) -> String {
    let mut ldflags = String::from("-s -w");
    match component {
        Component::KubeApiserver
        | Component::KubeControllerManager
        | Component::KubeScheduler
        | Component::Kubectl
        | Component::Kubelet => {
            ldflags.push_str(&kubernetes_version_ldflags(version));
        }
        // As Reloader's Dockerfile stamps releases; it shows in its `reloader-meta-info`.
        Component::Reloader => {
            let _ = write!(
                ldflags,
                " -X github.com/stakater/Reloader/pkg/common.Version={version}"
            );
        }
        // Else `helm version` names only the minor release (`v4.3`).
        Component::Helm => {
            let _ = write!(
                ldflags,
                " -X helm.sh/helm/v4/internal/version.version={version}"
            );
        }
        Component::Etcd | Component::Kwok | Component::Eso | Component::Crane => {}
    }
    ldflags
}

/// Stamps `/version` the way release builds do (`tools/go/README.md`).
fn kubernetes_version_ldflags(version: &str) -> String {
    let mut parts = version.trim_start_matches('v').split('.');
    let major = parts.next().unwrap_or("1");
    let minor = parts.next().unwrap_or("0");
    let mut flags = String::new();
    for pkg in [
        "k8s.io/component-base/version",
        "k8s.io/client-go/pkg/version",
    ] {
        let _ = write!(
            flags,
            " -X {pkg}.gitVersion={version} -X {pkg}.gitMajor={major} -X {pkg}.gitMinor={minor}"
        );
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_ldflags_match_the_readme() {
        assert_eq!(
            kubernetes_version_ldflags("v1.37.2"),
            " -X k8s.io/component-base/version.gitVersion=v1.37.2 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37 -X k8s.io/client-go/pkg/version.gitVersion=v1.37.2 -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=37"
        );
    }
}
