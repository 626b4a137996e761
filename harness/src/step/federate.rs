//! `federate`: adds a federated identity credential to an app or a managed identity, as
//! `az ad app federated-credential create` or `az identity federated-credential create` do,
//! so a scenario can repair (or set up) workload identity mid-run.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Step, StepContext, StepError, StepOutcome};
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
        let credential = federated_credential(&self.credential);
        let tenant = cx.world.tenant_id;
        let added = cx
            .bench
            .aad()
            .state()
            .update_directory(|d| {
                let Some(tenant) = d.tenants.iter_mut().find(|t| t.id == tenant) else {
                    return false;
                };
                let credentials = if ids.is_app {
                    tenant
                        .apps
                        .iter_mut()
                        .find(|a| a.app_id == ids.client_id)
                        .map(|a| &mut a.federated_credentials)
                } else {
                    tenant
                        .managed_identities
                        .iter_mut()
                        .find(|m| m.client_id == ids.client_id)
                        .map(|m| &mut m.federated_credentials)
                };
                credentials.map(|c| c.push(credential)).is_some()
            })
            .map_err(|e| StepError::refused("add federated credential", e))?;
        if !added {
            return Err(StepError::UnknownPrincipal(self.principal.clone()));
        }
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        format!(
            "federate {} with {}",
            self.principal, self.credential.subject
        )
    }
}
