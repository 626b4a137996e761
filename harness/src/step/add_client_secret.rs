//! `addClientSecret`: a new client secret on an app, as `az ad app credential reset --append`
//! makes; the value can be bound to a variable for later steps.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{References, Step, StepContext, StepError, StepOutcome};
use crate::duration::DurationSpec;
use crate::scenario::world::generated_secret;
use fake_aad::operations::NewClientSecret;

/// Adds a client secret to an app registration.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddClientSecret {
    /// The app's name in `azure.apps`.
    pub app: String,
    /// The value; generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Expires this long from now (on the fakes' clock); never when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<DurationSpec>,
    /// A variable that receives the value, e.g. `newSecret` for `${newSecret}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
}

impl Step for AddClientSecret {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let ids = cx
            .world
            .principals
            .get(&self.app)
            .filter(|p| p.is_app)
            .ok_or_else(|| StepError::UnknownApp(self.app.clone()))?;
        let state = cx.bench.aad().state();
        let new = NewClientSecret {
            value: Some(self.value.clone().unwrap_or_else(generated_secret)),
            end: self
                .expires_in
                .as_ref()
                .map(|d| state.clock().now() + d.get()),
        };
        let value = state
            .add_client_secret(
                &cx.world.tenant_id.to_string(),
                &ids.client_id.to_string(),
                new,
            )
            .map_err(|e| StepError::refused("add client secret", e))?
            .value;
        if let Some(name) = &self.bind {
            cx.bindings.set(name.clone(), value);
        }
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        format!("add client secret to {}", self.app)
    }

    fn references(&self) -> References<'_> {
        References {
            app: Some(&self.app),
            bind: self.bind.as_deref(),
            ..References::default()
        }
    }
}
