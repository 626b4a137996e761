//! `revokeAccess`: removes a role assignment (RBAC vaults) or access-policy permissions, as
//! `az role assignment delete` or `az keyvault delete-policy` do; Key Vault then answers 403
//! `ForbiddenByRbac` / `ForbiddenByPolicy`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::grant_access::Access;
use super::{References, Step, StepContext, StepError, StepOutcome};

/// Revokes a role or access-policy permissions.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct RevokeAccess(pub Access);

impl Step for RevokeAccess {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        self.0.apply(cx, false)?;
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        format!("revoke {}", self.0.describe())
    }

    fn references(&self) -> References<'_> {
        self.0.references()
    }
}
