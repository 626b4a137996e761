//! The plane's binaries and assets: where they are, and building them from the Go wrapper
//! modules in `tools/go/`.
//!
//! Every program is built from a wrapper module (go.mod + go.sum, no code)
//! with `-mod=readonly` into
//! `${XDG_CACHE_HOME:-~/.cache}/akv-e2e/bin/<component>-<version>-<go version>/`.
//! The directory also holds `wrapper-go.sum.sha256`; a binary built from another go.sum is
//! rebuilt. A directory without that stamp (built by hand with the README's commands) is
//! adopted once: the stamp of the current go.sum is written beside it. Each binary can be
//! replaced by an env var (`HARNESS_ETCD_BIN`, ..., `HARNESS_RELOADER_BIN`).

mod build;
mod component;

use crate::helm::{ChartKind, ChartSource};
use std::path::{Path, PathBuf};
use std::process::Command;

pub use build::{BuildError, BuildOutcome, build_missing};
pub use component::{Component, Wrapper};

/// Overrides the directory holding the wrapper modules (default: the repo's `tools/go`).
pub const WRAPPERS_ENV: &str = "HARNESS_GO_WRAPPERS";

/// Errors while locating binaries or assets.
#[derive(Debug, thiserror::Error)]
pub enum DepsError {
    /// `go` could not be run.
    #[error("cannot run `go {args}`: {reason}")]
    Go {
        /// The arguments.
        args: String,
        /// Why.
        reason: String,
    },
    /// A wrapper module is missing or unreadable.
    #[error("wrapper module {path}: {reason}")]
    Wrapper {
        /// The go.mod or go.sum.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Binaries are missing.
    #[error(
        "missing binaries: {}; run `harness deps` to build them (or set the HARNESS_*_BIN overrides)",
        .0.join(", ")
    )]
    Missing(Vec<String>),
    /// An env override names a file that does not exist.
    #[error("{var}={path}: no such file")]
    BadOverride {
        /// The variable.
        var: &'static str,
        /// Its value.
        path: PathBuf,
    },
    /// A requested version is not what the wrapper pins.
    #[error(
        "{component} {requested} is not supported: the wrapper in {wrapper} pins {pinned} (only pinned versions can be built)"
    )]
    UnsupportedVersion {
        /// The component.
        component: &'static str,
        /// Asked for.
        requested: String,
        /// What the wrapper pins.
        pinned: String,
        /// The wrapper directory.
        wrapper: PathBuf,
    },
    /// An asset (CRDs, stage files) is missing after `go mod download`.
    #[error("{what} not found at {path}")]
    Asset {
        /// What was looked for.
        what: &'static str,
        /// Where.
        path: PathBuf,
    },
}

/// Where to look and build.
#[derive(Clone, Debug)]
pub struct DepsConfig {
    /// Directory with one wrapper module per program.
    pub wrappers: PathBuf,
    /// `<cache>/akv-e2e/bin`.
    pub bin_root: PathBuf,
}

impl DepsConfig {
    /// Defaults from the environment: `HARNESS_GO_WRAPPERS` or the repo's `tools/go`, and
    /// `${XDG_CACHE_HOME:-~/.cache}/akv-e2e/bin`.
    pub fn from_env() -> Self {
        let wrappers = std::env::var_os(WRAPPERS_ENV).map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/go"),
            PathBuf::from,
        );
        let wrappers = wrappers.canonicalize().unwrap_or(wrappers);
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        Self {
            wrappers,
            bin_root: cache.join("akv-e2e").join("bin"),
        }
    }

    /// `<cache>/akv-e2e/helm`: prepared charts, Helm's own cache, values files in use.
    #[must_use]
    pub fn helm_cache(&self) -> PathBuf {
        self.bin_root
            .parent()
            .map_or_else(std::env::temp_dir, Path::to_path_buf)
            .join("helm")
    }

    /// `<cache>/akv-e2e/docker`: the data root of a Docker daemon the harness starts.
    #[must_use]
    pub fn docker_cache(&self) -> PathBuf {
        self.bin_root
            .parent()
            .map_or_else(std::env::temp_dir, Path::to_path_buf)
            .join("docker")
    }

    /// `<cache>/akv-e2e/node`: the real node's downloads and built images.
    #[must_use]
    pub fn node_cache(&self) -> PathBuf {
        self.bin_root
            .parent()
            .map_or_else(std::env::temp_dir, Path::to_path_buf)
            .join("node")
    }
}

/// The Go toolchain as the wrappers see it.
#[derive(Clone, Debug)]
pub struct Toolchain {
    /// `go env GOVERSION`, e.g. `go1.26.8`.
    pub version: String,
    /// `go env GOMODCACHE`.
    pub modcache: PathBuf,
}

impl Toolchain {
    /// Asks `go env`.
    pub fn detect() -> Result<Self, DepsError> {
        let output = go(None, &["env", "GOVERSION", "GOMODCACHE"])?;
        let mut lines = output.lines();
        let version = lines.next().unwrap_or_default().trim().to_owned();
        let modcache = PathBuf::from(lines.next().unwrap_or_default().trim());
        Ok(Self { version, modcache })
    }
}

/// Runs `go args` (in `dir`) and returns stdout.
pub(crate) fn go(dir: Option<&Path>, args: &[&str]) -> Result<String, DepsError> {
    let mut command = Command::new("go");
    command.args(args);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let fail = |reason: String| DepsError::Go {
        args: args.join(" "),
        reason,
    };
    let output = command.output().map_err(|e| fail(e.to_string()))?;
    if !output.status.success() {
        return Err(fail(format!(
            "{}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// One resolved binary.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The program.
    pub component: Component,
    /// Path to the executable.
    pub path: PathBuf,
    /// Version: the wrapper's pin, or `override` for an env override.
    pub version: String,
}

/// Every binary the plane runs.
#[derive(Clone, Debug)]
pub struct Binaries {
    /// etcd.
    pub etcd: Resolved,
    /// kube-apiserver.
    pub kube_apiserver: Resolved,
    /// kube-controller-manager.
    pub kube_controller_manager: Resolved,
    /// kube-scheduler.
    pub kube_scheduler: Resolved,
    /// kubectl.
    pub kubectl: Resolved,
    /// kwok.
    pub kwok: Resolved,
    /// External Secrets Operator.
    pub eso: Resolved,
    /// Stakater Reloader.
    pub reloader: Resolved,
    /// kubelet.
    pub kubelet: Resolved,
    /// crane.
    pub crane: Resolved,
    /// helm.
    pub helm: Resolved,
}

impl Binaries {
    /// Builds whatever is missing, then finds everything: what tests and `harness up` call so a
    /// fresh machine provisions itself. Concurrent callers (parallel test binaries) wait on a
    /// lock in the cache instead of building twice.
    pub fn ensure(config: &DepsConfig) -> Result<Self, BuildError> {
        if let Ok(found) = Self::locate(config) {
            return Ok(found);
        }
        build_missing(
            config,
            &Component::BUILT,
            &std::collections::BTreeMap::new(),
        )?;
        Ok(Self::locate(config)?)
    }

    /// Finds every binary (env override, else the cache); lists all missing ones at once.
    pub fn locate(config: &DepsConfig) -> Result<Self, DepsError> {
        let mut toolchain = None;
        let mut missing = Vec::new();
        let mut found = Vec::new();
        for component in Component::BUILT {
            match resolve(config, component, &mut toolchain)? {
                Some(resolved) => found.push(resolved),
                None => missing.push(component.binary().to_owned()),
            }
        }
        if !missing.is_empty() {
            return Err(DepsError::Missing(missing));
        }
        let mut found = found.into_iter();
        let mut next = || found.next().expect("one per built component");
        Ok(Self {
            etcd: next(),
            kube_apiserver: next(),
            kube_controller_manager: next(),
            kube_scheduler: next(),
            kubectl: next(),
            kwok: next(),
            eso: next(),
            reloader: next(),
            kubelet: next(),
            crane: next(),
            helm: next(),
        })
    }
}

fn override_path(component: Component, path: std::ffi::OsString) -> Result<Resolved, DepsError> {
    let path = PathBuf::from(path);
    if !path.is_file() {
        return Err(DepsError::BadOverride {
            var: component.env_var(),
            path,
        });
    }
    Ok(Resolved {
        component,
        path,
        version: "override".into(),
    })
}

/// The binary for `component`: its env override, or the cached build; `None` if not built.
pub fn resolve(
    config: &DepsConfig,
    component: Component,
    toolchain: &mut Option<Toolchain>,
) -> Result<Option<Resolved>, DepsError> {
    if let Some(path) = std::env::var_os(component.env_var()).filter(|p| !p.is_empty()) {
        return override_path(component, path).map(Some);
    }
    let wrapper = Wrapper::read(&config.wrappers.join(component.wrapper_dir()), component)?;
    if toolchain.is_none() {
        *toolchain = Some(Toolchain::detect()?);
    }
    let toolchain = toolchain.as_ref().expect("just set");
    let dir = wrapper.bin_dir(&config.bin_root, &toolchain.version);
    let path = dir.join(component.binary());
    if path.is_file() && wrapper.stamp_matches(&dir) {
        Ok(Some(Resolved {
            component,
            path,
            version: wrapper.version.clone(),
        }))
    } else {
        Ok(None)
    }
}

/// Files the plane needs from the Go module cache.
#[derive(Clone, Debug)]
pub struct Assets {
    /// ESO's `config/crds/bases/*.yaml`, sorted.
    pub eso_crds: Vec<PathBuf>,
    /// kwok stage files: node-initialize, node-heartbeat-with-lease, pod-ready, pod-delete.
    pub kwok_stages: Vec<PathBuf>,
    /// Kubernetes' `build/pause/linux/pause.c`, the real node's sandbox image.
    pub pause_source: PathBuf,
    /// ESO's chart, from the module the bench builds ESO from.
    pub eso_chart: ChartSource,
    /// Reloader's chart, from the module the bench builds Reloader from.
    pub reloader_chart: ChartSource,
}

/// kwok stages, relative to the kwok module root.
const KWOK_STAGES: &[&str] = &[
    "kustomize/stage/node/fast/node-initialize.yaml",
    "kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "kustomize/stage/pod/fast/pod-ready.yaml",
    "kustomize/stage/pod/fast/pod-delete.yaml",
];

impl Assets {
    /// Finds the CRDs and stage files in the module cache, running `go mod download` in the
    /// wrapper when they are absent.
    pub fn locate(config: &DepsConfig) -> Result<Self, DepsError> {
        let toolchain = Toolchain::detect()?;
        let eso = Wrapper::read(&config.wrappers.join("eso"), Component::Eso)?;
        let eso_root = eso.module_dir(&toolchain.modcache)?;
        let crd_dir = eso_root.join("config/crds/bases");
        let mut eso_crds: Vec<PathBuf> = std::fs::read_dir(&crd_dir)
            .map_err(|_| DepsError::Asset {
                what: "ESO CRDs",
                path: crd_dir.clone(),
            })?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|e| e == "yaml")
                    && p.file_name().is_some_and(|n| n != "kustomization.yaml")
            })
            .collect();
        eso_crds.sort();
        if eso_crds.is_empty() {
            return Err(DepsError::Asset {
                what: "ESO CRDs",
                path: crd_dir,
            });
        }
        let kwok = Wrapper::read(&config.wrappers.join("kwok"), Component::Kwok)?;
        let kwok_root = kwok.module_dir(&toolchain.modcache)?;
        let kwok_stages = KWOK_STAGES
            .iter()
            .map(|rel| {
                let path = kwok_root.join(rel);
                if path.is_file() {
                    Ok(path)
                } else {
                    Err(DepsError::Asset {
                        what: "kwok stage",
                        path,
                    })
                }
            })
            .collect::<Result<_, _>>()?;
        let kubernetes = Wrapper::read(
            &config.wrappers.join(Component::Kubelet.wrapper_dir()),
            Component::Kubelet,
        )?;
        let pause_source = kubernetes
            .module_dir(&toolchain.modcache)?
            .join("build/pause/linux/pause.c");
        if !pause_source.is_file() {
            return Err(DepsError::Asset {
                what: "pause.c",
                path: pause_source,
            });
        }
        let reloader = Wrapper::read(&config.wrappers.join("reloader"), Component::Reloader)?;
        Ok(Self {
            eso_crds,
            kwok_stages,
            pause_source,
            eso_chart: ChartSource {
                kind: ChartKind::ExternalSecrets,
                module_dir: eso_root,
                version: eso.version,
            },
            reloader_chart: ChartSource {
                kind: ChartKind::Reloader,
                module_dir: reloader.module_dir(&toolchain.modcache)?,
                version: reloader.version,
            },
        })
    }
}
