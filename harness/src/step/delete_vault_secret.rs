//! `deleteVaultSecret`: soft-deletes a secret, as `az keyvault secret delete` does.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{References, Step, StepContext, StepError, StepOutcome};
use fake_akv::SecretValue;

/// Soft-deletes a secret with all its versions.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteVaultSecret {
    /// The vault; the scenario's first vault when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<String>,
    /// Secret name.
    pub name: String,
}

impl Step for DeleteVaultSecret {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let vault = cx.vault(self.vault.as_deref())?;
        let now = cx.now_unix();
        vault
            .delete::<SecretValue>(&self.name, now)
            .map_err(|e| StepError::refused(format!("delete secret {}", self.name), e))?;
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        format!("delete vault secret {}", self.name)
    }

    fn references(&self) -> References<'_> {
        References {
            vault: self.vault.as_deref(),
            ..References::default()
        }
    }
}
