//! `purgeVaultSecret`: removes a soft-deleted secret for good, as `az keyvault secret purge`
//! does (refused under purge protection).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{References, Step, StepContext, StepError, StepOutcome};
use fake_akv::SecretValue;
use fake_akv::operations::Purge;

/// Purges a soft-deleted secret.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PurgeVaultSecret {
    /// The vault; the scenario's first vault when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<String>,
    /// Secret name.
    pub name: String,
}

impl Step for PurgeVaultSecret {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let vault = cx.vault(self.vault.as_deref())?;
        let now = cx.now_unix();
        // As `az keyvault secret purge` would: purge protection refuses it.
        vault
            .purge::<SecretValue>(&self.name, now, Purge::AsUser)
            .map_err(|e| StepError::refused(format!("purge secret {}", self.name), e))?;
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        format!("purge vault secret {}", self.name)
    }

    fn references(&self) -> References<'_> {
        References {
            vault: self.vault.as_deref(),
            ..References::default()
        }
    }
}
