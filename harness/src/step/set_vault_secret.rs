//! `setVaultSecret`: a new version of a secret, as `az keyvault secret set` makes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{References, Step, StepContext, StepError, StepOutcome};
use fake_akv::{NewSecretVersion, SecretValue};

/// Sets a secret in a vault (a new version; the secret is created on first use).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetVaultSecret {
    /// The vault; the scenario's first vault when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<String>,
    /// Secret name.
    pub name: String,
    /// The new value.
    pub value: String,
    /// Content type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Whether the new version is enabled (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

impl Step for SetVaultSecret {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let vault = cx.vault(self.vault.as_deref())?;
        let now = cx.now_unix();
        let new = NewSecretVersion {
            payload: SecretValue {
                value: self.value.clone(),
                content_type: self.content_type.clone(),
            },
            enabled: self.enabled,
            ..NewSecretVersion::default()
        };
        vault
            .set_secret(&self.name, new, now)
            .map_err(|e| StepError::refused(format!("set secret {}", self.name), e))?;
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        format!("set vault secret {}", self.name)
    }

    fn references(&self) -> References<'_> {
        References {
            vault: self.vault.as_deref(),
            ..References::default()
        }
    }
}
