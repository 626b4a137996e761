//! The releases one owner installed (a scenario, or a whole `--install` run), kept with the
//! values each was installed with, so a release can be upgraded with changes over them and
//! everything is uninstalled, newest first, when the owner is done.

use super::{ChartKind, Deploy, Helm, HelmError, ReleaseSpec, Values};

/// Why a release could not be upgraded.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    /// Nothing of that chart was installed by this owner.
    #[error("no {0} release was installed with Helm here (components.*.install: helm)")]
    NotInstalled(&'static str),
    /// Helm refused or failed.
    #[error(transparent)]
    Helm(#[from] HelmError),
}

/// Releases installed through one [`Helm`] for pods that reach the fakes at `pod_proxy`.
pub struct Releases {
    helm: Helm,
    client: kube::Client,
    pod_proxy: String,
    ca_pem: String,
    installed: Vec<ReleaseSpec>,
}

impl Releases {
    /// Nothing installed yet.
    #[must_use]
    pub fn new(helm: Helm, client: kube::Client, pod_proxy: String, ca_pem: String) -> Self {
        Self {
            helm,
            client,
            pod_proxy,
            ca_pem,
            installed: Vec::new(),
        }
    }

    /// Installs `spec` and waits until it is ready. A release that fails (Helm or the
    /// chart's schema refuses the values, or its pods never get ready) is uninstalled, and
    /// the error says which images its pods could not pull, if that is why. It is recorded
    /// either way: its namespace (with the bench's CA) is still there to remove.
    pub async fn install(&mut self, spec: ReleaseSpec) -> Result<(), HelmError> {
        self.installed.push(spec);
        let spec = &self.installed[self.installed.len() - 1];
        let mut outcome = self.deploy(spec, Deploy::Install).await;
        if let Err(error) = &mut outcome {
            if let HelmError::Helm { message, .. } = error {
                message.push_str(&super::unpullable(&self.client, &spec.namespace).await);
            }
            let _ = self.helm.uninstall(&spec.name, &spec.namespace).await;
        }
        outcome
    }

    /// Upgrades the release of `chart` with `changes` over the values it has (maps merged,
    /// lists replaced, as Helm merges values files) and waits until it is ready again. Its
    /// values then include the changes, for the next upgrade.
    pub async fn upgrade(
        &mut self,
        chart: ChartKind,
        changes: Vec<Values>,
    ) -> Result<(), UpgradeError> {
        let index = self
            .installed
            .iter()
            .rposition(|spec| spec.chart.kind == chart)
            .ok_or(UpgradeError::NotInstalled(chart.name()))?;
        self.installed[index].values.extend(changes);
        Ok(self.deploy(&self.installed[index], Deploy::Upgrade).await?)
    }

    /// `spec` through Helm, for this owner's pods and CA.
    async fn deploy(&self, spec: &ReleaseSpec, action: Deploy) -> Result<(), HelmError> {
        self.helm
            .deploy(&self.client, spec, &self.pod_proxy, &self.ca_pem, action)
            .await
    }

    /// What was installed, oldest first.
    #[must_use]
    pub fn installed(&self) -> &[ReleaseSpec] {
        &self.installed
    }

    /// Uninstalls everything, newest first, calling `after` with each release's namespace once
    /// it is gone (the owner decides whether the namespace goes too).
    pub async fn uninstall_all(self, mut after: impl AsyncFnMut(&str)) {
        for spec in self.installed.iter().rev() {
            if let Err(e) = self.helm.uninstall(&spec.name, &spec.namespace).await {
                tracing::warn!(release = %spec.name, error = %e, "uninstall failed");
            }
            after(&spec.namespace).await;
        }
    }
}
