//! `enableVaultSecret`: enables the latest version of a secret, as `az keyvault secret set-attributes --enabled true` does.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{References, Step, StepContext, StepError, StepOutcome};
use fake_akv::VersionUpdate;

/// Enables a secret's latest version.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnableVaultSecret {
    /// The vault; the scenario's first vault when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<String>,
    /// Secret name.
    pub name: String,
}

impl Step for EnableVaultSecret {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let vault = cx.vault(self.vault.as_deref())?;
        let now = cx.now_unix();
        let update = VersionUpdate {
            enabled: Some(true),
            ..VersionUpdate::default()
        };
        vault
            .update_secret(&self.name, None, update, None, now)
            .map_err(|e| StepError::refused(format!("enable secret {}", self.name), e))?;
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        format!("enable vault secret {}", self.name)
    }

    fn references(&self) -> References<'_> {
        References {
            vault: self.vault.as_deref(),
            ..References::default()
        }
    }
}
