//! `forceSync`: annotates an ExternalSecret with `force-sync=<unix time>`, the documented way to
//! make ESO refresh at once (`kubectl annotate es NAME force-sync=$(date +%s) --overwrite`,
//! external-secrets `docs/introduction/faq.md`): any annotation change bumps the
//! `syncedResourceVersion` and triggers a sync.

use kube::api::{Patch, PatchParams};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::kube_util::api_for;
use super::{Step, StepContext, StepError, StepOutcome};

/// Forces an ExternalSecret to sync now.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForceSync {
    /// The ExternalSecret.
    pub name: String,
    /// Namespace; the scenario's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// ESO's API version (default `external-secrets.io/v1`).
    #[serde(default = "default_api_version")]
    pub api_version: String,
}

fn default_api_version() -> String {
    "external-secrets.io/v1".into()
}

impl Step for ForceSync {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let client = cx.kube()?;
        let api = api_for(
            &client,
            &self.api_version,
            "ExternalSecret",
            self.namespace.as_deref(),
            &cx.namespace,
        )
        .await?;
        // Wall-clock seconds, with sub-second uniqueness so two force-syncs in one second differ.
        let now = time::OffsetDateTime::now_utc();
        let value = format!("{}.{:03}", now.unix_timestamp(), now.millisecond());
        let patch = serde_json::json!({ "metadata": { "annotations": { "force-sync": value } } });
        api.patch(&self.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| StepError::kube(format!("annotate ExternalSecret {}", self.name), e))?;
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        format!("force-sync ExternalSecret {}", self.name)
    }

    fn needs_cluster(&self) -> bool {
        true
    }
}
