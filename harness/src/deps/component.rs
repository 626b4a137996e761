//! The programs, and the wrapper modules they are built from.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{DepsError, go};

/// Stamp file in a binary directory: the sha256 of the wrapper go.sum it was built from.
pub const STAMP_FILE: &str = "wrapper-go.sum.sha256";

/// A program the plane runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Component {
    /// etcd.
    Etcd,
    /// kube-apiserver.
    KubeApiserver,
    /// kube-controller-manager.
    KubeControllerManager,
    /// kube-scheduler.
    KubeScheduler,
    /// kubectl, on the `PATH` of `script` steps.
    Kubectl,
    /// kwok.
    Kwok,
    /// External Secrets Operator.
    Eso,
    /// Stakater Reloader.
    Reloader,
    /// kubelet, for the real node.
    Kubelet,
    /// crane (go-containerregistry): the real node's image registry, and the tool that builds
    /// and pushes the images it serves.
    Crane,
    /// Helm, which installs ESO's and Reloader's charts.
    Helm,
}

impl Component {
    /// Everything built from a wrapper, in [`super::Binaries`] field order.
    pub const BUILT: [Self; 11] = [
        Self::Etcd,
        Self::KubeApiserver,
        Self::KubeControllerManager,
        Self::KubeScheduler,
        Self::Kubectl,
        Self::Kwok,
        Self::Eso,
        Self::Reloader,
        Self::Kubelet,
        Self::Crane,
        Self::Helm,
    ];

    /// The executable's file name.
    #[must_use]
    pub fn binary(self) -> &'static str {
        match self {
            Self::Etcd => "etcd",
            Self::KubeApiserver => "kube-apiserver",
            Self::KubeControllerManager => "kube-controller-manager",
            Self::KubeScheduler => "kube-scheduler",
            Self::Kubectl => "kubectl",
            Self::Kwok => "kwok",
            Self::Eso => "external-secrets",
            Self::Reloader => "reloader",
            Self::Kubelet => "kubelet",
            Self::Crane => "crane",
            Self::Helm => "helm",
        }
    }

    /// The env var that overrides the binary.
    #[must_use]
    pub fn env_var(self) -> &'static str {
        match self {
            Self::Etcd => "HARNESS_ETCD_BIN",
            Self::KubeApiserver => "HARNESS_KUBE_APISERVER_BIN",
            Self::KubeControllerManager => "HARNESS_KUBE_CONTROLLER_MANAGER_BIN",
            Self::KubeScheduler => "HARNESS_KUBE_SCHEDULER_BIN",
            Self::Kubectl => "HARNESS_KUBECTL_BIN",
            Self::Kwok => "HARNESS_KWOK_BIN",
            Self::Eso => "HARNESS_ESO_BIN",
            Self::Reloader => "HARNESS_RELOADER_BIN",
            Self::Kubelet => "HARNESS_KUBELET_BIN",
            Self::Crane => "HARNESS_CRANE_BIN",
            Self::Helm => "HARNESS_HELM_BIN",
        }
    }

    /// The wrapper module directory under `tools/go`.
    #[must_use]
    pub fn wrapper_dir(self) -> &'static str {
        match self {
            Self::Etcd => "etcd",
            Self::KubeApiserver
            | Self::KubeControllerManager
            | Self::KubeScheduler
            | Self::Kubectl
            | Self::Kubelet => "kubernetes",
            Self::Kwok => "kwok",
            Self::Eso => "eso",
            Self::Reloader => "reloader",
            Self::Crane => "crane",
            Self::Helm => "helm",
        }
    }

    /// The upstream module the wrapper pins.
    #[must_use]
    pub fn module(self) -> &'static str {
        match self {
            Self::Etcd => "go.etcd.io/etcd/server/v3",
            Self::KubeApiserver
            | Self::KubeControllerManager
            | Self::KubeScheduler
            | Self::Kubectl
            | Self::Kubelet => "k8s.io/kubernetes",
            Self::Kwok => "sigs.k8s.io/kwok",
            Self::Eso => "github.com/external-secrets/external-secrets",
            Self::Reloader => "github.com/stakater/Reloader",
            Self::Crane => "github.com/google/go-containerregistry",
            Self::Helm => "helm.sh/helm/v4",
        }
    }

    /// The Go package that is the program's `main`.
    #[must_use]
    pub fn main_package(self) -> &'static str {
        match self {
            Self::Etcd => "go.etcd.io/etcd/server/v3",
            Self::KubeApiserver => "k8s.io/kubernetes/cmd/kube-apiserver",
            Self::KubeControllerManager => "k8s.io/kubernetes/cmd/kube-controller-manager",
            Self::KubeScheduler => "k8s.io/kubernetes/cmd/kube-scheduler",
            Self::Kubectl => "k8s.io/kubernetes/cmd/kubectl",
            Self::Kwok => "sigs.k8s.io/kwok/cmd/kwok",
            Self::Eso => "github.com/external-secrets/external-secrets",
            Self::Reloader => "github.com/stakater/Reloader",
            Self::Kubelet => "k8s.io/kubernetes/cmd/kubelet",
            Self::Crane => "github.com/google/go-containerregistry/cmd/crane",
            Self::Helm => "helm.sh/helm/v4/cmd/helm",
        }
    }

    /// The cache directory prefix (`kubernetes` for the four Kubernetes binaries).
    #[must_use]
    pub fn cache_name(self) -> &'static str {
        match self {
            Self::Etcd => "etcd",
            Self::KubeApiserver
            | Self::KubeControllerManager
            | Self::KubeScheduler
            | Self::Kubectl
            | Self::Kubelet => "kubernetes",
            Self::Kwok => "kwok",
            Self::Eso => "external-secrets",
            Self::Reloader => "reloader",
            Self::Crane => "crane",
            Self::Helm => "helm",
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.binary())
    }
}

/// A wrapper module: its directory, the pinned upstream version and its go.sum hash.
#[derive(Clone, Debug)]
pub struct Wrapper {
    /// The directory (holds go.mod and go.sum).
    pub dir: PathBuf,
    /// The upstream module.
    pub module: &'static str,
    /// The version go.mod requires it at.
    pub version: String,
    /// sha256 of go.sum, hex.
    pub go_sum_sha256: String,
    cache_name: &'static str,
}

impl Wrapper {
    /// Reads `dir/go.mod` and `dir/go.sum` for `component`.
    pub fn read(dir: &Path, component: Component) -> Result<Self, DepsError> {
        let go_mod_path = dir.join("go.mod");
        let go_mod = std::fs::read_to_string(&go_mod_path).map_err(|e| DepsError::Wrapper {
            path: go_mod_path.clone(),
            reason: e.to_string(),
        })?;
        let module = component.module();
        let version = required_version(&go_mod, module).ok_or_else(|| DepsError::Wrapper {
            path: go_mod_path.clone(),
            reason: format!("no `require {module} vX` line"),
        })?;
        let go_sum_path = dir.join("go.sum");
        let go_sum = std::fs::read(&go_sum_path).map_err(|e| DepsError::Wrapper {
            path: go_sum_path,
            reason: e.to_string(),
        })?;
        let go_sum_sha256 = hex(&Sha256::digest(&go_sum));
        Ok(Self {
            dir: dir.to_path_buf(),
            module,
            version,
            go_sum_sha256,
            cache_name: component.cache_name(),
        })
    }

    /// `<bin_root>/<component>-<version>-<go version>`.
    #[must_use]
    pub fn bin_dir(&self, bin_root: &Path, go_version: &str) -> PathBuf {
        bin_root.join(format!("{}-{}-{go_version}", self.cache_name, self.version))
    }

    /// True if `dir` was built from this go.sum. A directory without a stamp (binaries built by
    /// hand with the README's commands before stamps existed) is adopted: the stamp is written.
    #[must_use]
    pub fn stamp_matches(&self, dir: &Path) -> bool {
        let stamp = dir.join(STAMP_FILE);
        if let Ok(text) = std::fs::read_to_string(&stamp) {
            text.trim() == self.go_sum_sha256
        } else {
            let _ = std::fs::write(&stamp, format!("{}\n", self.go_sum_sha256));
            true
        }
    }

    /// Writes the stamp after a build.
    pub fn write_stamp(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::write(dir.join(STAMP_FILE), format!("{}\n", self.go_sum_sha256))
    }

    /// The module's directory in the module cache, downloading it if absent.
    pub fn module_dir(&self, modcache: &Path) -> Result<PathBuf, DepsError> {
        let dir = modcache.join(format!(
            "{}@{}",
            escape_module_path(self.module),
            self.version
        ));
        if !dir.is_dir() {
            go(Some(&self.dir), &["mod", "download", self.module])?;
        }
        if dir.is_dir() {
            Ok(dir)
        } else {
            Err(DepsError::Asset {
                what: "module source",
                path: dir,
            })
        }
    }
}

/// The version in a `require` line (block or single) for `module`.
fn required_version(go_mod: &str, module: &str) -> Option<String> {
    go_mod.lines().find_map(|line| {
        let line = line.trim();
        let line = line.strip_prefix("require ").unwrap_or(line).trim();
        let mut words = line.split_whitespace();
        (words.next()? == module)
            .then(|| words.next())
            .flatten()
            .filter(|v| v.starts_with('v'))
            .map(str::to_owned)
    })
}

/// The module cache's case encoding: an upper-case letter becomes `!` + lower case.
fn escape_module_path(module: &str) -> String {
    let mut out = String::with_capacity(module.len());
    for c in module.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_version_reads_block_and_single_lines_and_skips_replaces() {
        let go_mod = "module x\n\nrequire (\n\tk8s.io/api v0.37.2 // indirect\n\tk8s.io/kubernetes v1.37.2 // indirect\n)\nreplace k8s.io/kubernetes => k8s.io/kubernetes v9\nrequire sigs.k8s.io/kwok v0.8.0\n";
        assert_eq!(
            required_version(go_mod, "k8s.io/kubernetes").as_deref(),
            Some("v1.37.2")
        );
        assert_eq!(
            required_version(go_mod, "sigs.k8s.io/kwok").as_deref(),
            Some("v0.8.0")
        );
        assert_eq!(required_version(go_mod, "k8s.io/apimachinery"), None);
    }

    #[test]
    fn module_paths_are_case_escaped() {
        assert_eq!(
            escape_module_path("github.com/stakater/Reloader"),
            "github.com/stakater/!reloader"
        );
    }

    #[test]
    fn pinned_wrappers_read_from_the_repo() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/go");
        let eso = Wrapper::read(&root.join("eso"), Component::Eso).expect("eso wrapper");
        assert_eq!(eso.version, "v0.20.4");
        assert_eq!(eso.go_sum_sha256.len(), 64);
        assert_eq!(
            eso.bin_dir(Path::new("/c"), "go1.26.8"),
            Path::new("/c/external-secrets-v0.20.4-go1.26.8")
        );
        let k8s = Wrapper::read(&root.join("kubernetes"), Component::KubeScheduler).expect("k8s");
        assert_eq!(k8s.version, "v1.37.2");
        let reloader =
            Wrapper::read(&root.join("reloader"), Component::Reloader).expect("reloader");
        assert_eq!(reloader.version, "v1.4.22");
        let helm = Wrapper::read(&root.join("helm"), Component::Helm).expect("helm");
        assert_eq!(helm.version, "v4.3.2");
    }
}
