//! `expireClientSecret`: ends a client secret's validity now, so Entra answers AADSTS7000222.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Step, StepContext, StepError, StepOutcome};

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
        let state = cx.bench.aad().state();
        let past = state.clock().now() - time::Duration::seconds(1);
        let tenant = cx.world.tenant_id;
        let expired = state
            .update_directory(|d| {
                let mut count = 0;
                for app in d
                    .tenants
                    .iter_mut()
                    .filter(|t| t.id == tenant)
                    .flat_map(|t| t.apps.iter_mut())
                    .filter(|a| a.app_id == ids.client_id)
                {
                    for secret in &mut app.secrets {
                        if self.value.as_ref().is_none_or(|v| *v == secret.value) {
                            secret.end = Some(past);
                            count += 1;
                        }
                    }
                }
                count
            })
            .map_err(|e| StepError::refused("expire client secret", e))?;
        if expired == 0 {
            return Err(StepError::Invalid(format!(
                "app {} has no matching client secret",
                self.app
            )));
        }
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        format!("expire client secret of {}", self.app)
    }
}
