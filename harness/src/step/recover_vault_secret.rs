//! `recoverVaultSecret`: brings a soft-deleted secret back, as `az keyvault secret recover` does.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{References, Step, StepContext, StepError, StepOutcome};
use fake_akv::SecretValue;

/// Recovers a soft-deleted secret.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecoverVaultSecret {
    /// The vault; the scenario's first vault when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<String>,
    /// Secret name.
    pub name: String,
}

impl Step for RecoverVaultSecret {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let vault = cx.vault(self.vault.as_deref())?;
        let now = cx.now_unix();
        vault
            .recover::<SecretValue>(&self.name, now)
            .map_err(|e| StepError::refused(format!("recover secret {}", self.name), e))?;
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        format!("recover vault secret {}", self.name)
    }

    fn references(&self) -> References<'_> {
        References {
            vault: self.vault.as_deref(),
            ..References::default()
        }
    }
}
