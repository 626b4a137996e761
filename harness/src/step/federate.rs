//! `federate`: adds a federated identity credential to an app or a managed identity, as
//! `az ad app federated-credential create` or `az identity federated-credential create` do,
//! so a scenario can repair (or set up) workload identity mid-run.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{References, Step, StepContext, StepError, StepOutcome};
use crate::scenario::spec::FederatedCredentialSpec;
use crate::scenario::world::federated_credential;

/// Trusts tokens from an issuer about a subject for an app or managed identity.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Federate {
    /// An app or managed identity name.
    pub principal: String,
    /// The credential: `issuer` (`${clusterIssuer}` for the local plane), `subject`
    /// (`system:serviceaccount:${namespace}:NAME`), optional `name` and `audiences`.
    pub credential: FederatedCredentialSpec,
}

impl Step for Federate {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let ids = cx
            .world
            .principals
            .get(&self.principal)
            .ok_or_else(|| StepError::UnknownPrincipal(self.principal.clone()))?
            .clone();
        cx.bench
            .aad()
            .state()
            .federate(
                &cx.world.tenant_id.to_string(),
                &ids.client_id.to_string(),
                federated_credential(&self.credential),
            )
            .map_err(|e| StepError::refused("add federated credential", e))?;
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        format!(
            "federate {} with {}",
            self.principal, self.credential.subject
        )
    }

    fn references(&self) -> References<'_> {
        References {
            principal: Some(&self.principal),
            ..References::default()
        }
    }
}
