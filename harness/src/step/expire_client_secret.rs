//! `expireClientSecret`: ends a client secret's validity now, so Entra answers AADSTS7000222.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{References, Step, StepContext, StepError, StepOutcome};
use fake_aad::operations::SecretSelector;

/// Expires an app's client secrets (one, by value, or all).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpireClientSecret {
    /// The app's name in `azure.apps`.
    pub app: String,
    /// The secret's value (e.g. `${clientSecret}`); every secret of the app when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Step for ExpireClientSecret {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let ids = cx
            .world
            .principals
            .get(&self.app)
            .filter(|p| p.is_app)
            .ok_or_else(|| StepError::UnknownApp(self.app.clone()))?;
        let which = SecretSelector {
            key_id: None,
            value: self.value.clone(),
        };
        cx.bench
            .aad()
            .state()
            .expire_client_secrets(
                &cx.world.tenant_id.to_string(),
                &ids.client_id.to_string(),
                &which,
            )
            .map_err(|e| StepError::Invalid(format!("app {}: {e}", self.app)))?;
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        format!("expire client secret of {}", self.app)
    }

    fn references(&self) -> References<'_> {
        References {
            app: Some(&self.app),
            ..References::default()
        }
    }
}
