//! The charts the bench installs, as their upstream releases publish them. Each comes from its
//! project's Go module (the source the bench already builds the program from), copied once per
//! version into the cache with the changes the release packaging makes and the source tree
//! lacks: the chart's `appVersion` (and so its default image tag) is the module's version, and
//! a dependency that is off by default and cannot be fetched here is left out.

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use super::HelmError;

/// A chart the bench provides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartKind {
    /// `external-secrets/external-secrets`, from `deploy/charts/external-secrets`.
    ExternalSecrets,
    /// `stakater/reloader`, from `deployments/kubernetes/chart/reloader`.
    Reloader,
}

impl ChartKind {
    /// The chart's name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::ExternalSecrets => "external-secrets",
            Self::Reloader => "reloader",
        }
    }

    /// Where the chart lives in its module.
    fn path_in_module(self) -> &'static str {
        match self {
            Self::ExternalSecrets => "deploy/charts/external-secrets",
            Self::Reloader => "deployments/kubernetes/chart/reloader",
        }
    }
}

/// A chart's source: its module directory and the module's version (`v0.20.4`).
#[derive(Clone, Debug)]
pub struct ChartSource {
    /// Which chart.
    pub kind: ChartKind,
    /// The module's root in the module cache.
    pub module_dir: PathBuf,
    /// The module's version.
    pub version: String,
}

impl ChartSource {
    /// The chart, ready to install: `<cache>/<name>-<version>`, prepared on first use.
    pub fn prepare(&self, cache: &Path) -> Result<PathBuf, HelmError> {
        let dir = cache.join(format!("{}-{}", self.kind.name(), self.version));
        if dir.join("Chart.yaml").is_file() {
            return Ok(dir);
        }
        let io = |what: &str, e: std::io::Error| HelmError::Chart {
            chart: self.kind.name(),
            reason: format!("{what}: {e}"),
        };
        let partial = dir.with_extension("partial");
        let _ = std::fs::remove_dir_all(&partial);
        copy_dir(&self.module_dir.join(self.kind.path_in_module()), &partial)
            .map_err(|e| io("copy the chart", e))?;
        let chart_yaml = partial.join("Chart.yaml");
        let text = std::fs::read_to_string(&chart_yaml).map_err(|e| io("read Chart.yaml", e))?;
        std::fs::write(&chart_yaml, released_chart_yaml(&text, &self.version))
            .map_err(|e| io("write Chart.yaml", e))?;
        // The lock names the dependency left out; Helm would look for it.
        let _ = std::fs::remove_file(partial.join("Chart.lock"));
        if self.kind == ChartKind::Reloader {
            // Reloader's chart pins its image tag in values.yaml, which its release bumps.
            let values = partial.join("values.yaml");
            let text = std::fs::read_to_string(&values).map_err(|e| io("read values.yaml", e))?;
            std::fs::write(&values, released_reloader_values(&text, &self.version))
                .map_err(|e| io("write values.yaml", e))?;
        }
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(&partial, &dir).map_err(|e| io("finish the chart", e))?;
        Ok(dir)
    }
}

/// `Chart.yaml` with `version` and `appVersion` of the release and without `dependencies`
/// (ESO's one, `bitwarden-sdk-server`, is off by default and lives in an OCI registry).
fn released_chart_yaml(text: &str, version: &str) -> String {
    let mut out = String::new();
    let mut in_dependencies = false;
    for line in text.lines() {
        if in_dependencies && (line.starts_with(' ') || line.starts_with('-')) {
            continue;
        }
        in_dependencies = line.starts_with("dependencies:");
        if in_dependencies {
            continue;
        }
        if line.starts_with("version:") {
            let _ = writeln!(out, "version: \"{}\"", version.trim_start_matches('v'));
        } else if line.starts_with("appVersion:") {
            let _ = writeln!(out, "appVersion: \"{version}\"");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Reloader's `values.yaml` with the top-level `image.tag` of the release.
fn released_reloader_values(text: &str, version: &str) -> String {
    let mut out = String::new();
    let mut in_image = false;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_image = line.starts_with("image:");
        }
        if in_image && line.trim_start().starts_with("tag:") && line.starts_with("  tag:") {
            let _ = writeln!(out, "  tag: {version}");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
            // The module cache is read-only; the copy must not be.
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_released_chart_has_the_modules_version_and_no_dependencies() {
        let source = "apiVersion: v2\nname: external-secrets\nversion: \"0.20.3\"\nappVersion: \"v0.20.3\"\nkubeVersion: \">= 1.19.0-0\"\ndependencies:\n  - name: bitwarden-sdk-server\n    version: v0.5.1\n    condition: bitwarden-sdk-server.enabled\nkeywords:\n  - secrets\n";
        assert_eq!(
            released_chart_yaml(source, "v0.20.4"),
            "apiVersion: v2\nname: external-secrets\nversion: \"0.20.4\"\nappVersion: \"v0.20.4\"\nkubeVersion: \">= 1.19.0-0\"\nkeywords:\n  - secrets\n"
        );
    }

    #[test]
    fn reloaders_image_tag_is_the_release() {
        let source = "global:\n  image:\n    tag: keep\nimage:\n  name: stakater/reloader\n  repository: ghcr.io/stakater/reloader\n  tag: v1.4.21\nreloader:\n  tag: keep\n";
        assert_eq!(
            released_reloader_values(source, "v1.4.22"),
            "global:\n  image:\n    tag: keep\nimage:\n  name: stakater/reloader\n  repository: ghcr.io/stakater/reloader\n  tag: v1.4.22\nreloader:\n  tag: keep\n"
        );
    }
}
