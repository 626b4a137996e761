//! `grantAccess`: gives a principal a role on a vault (RBAC vaults) or secret permissions in
//! its access policy (access-policy vaults), as `az role assignment create` or
//! `az keyvault set-policy` do. [`revokeAccess`](super::revoke_access) takes it back; both
//! change the vault through fake-akv's access operations (`fake_akv::operations`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{References, Step, StepContext, StepError, StepOutcome};
use fake_akv::operations::AccessChange;

/// Who gets (or loses) what on which vault.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Access {
    /// The vault; the scenario's first vault when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<String>,
    /// An app or managed identity name.
    pub principal: String,
    /// RBAC vaults: the built-in role, e.g. `Key Vault Secrets User`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// RBAC vaults: `/` for the whole vault, or `/secrets/NAME`. Granting without one is
    /// vault-wide; revoking without one removes the role at every scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Access-policy vaults: secret permissions (`get`, `list`, ...). Revoking with none
    /// listed removes the principal's whole policy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
}

impl Access {
    /// Grants (`grant`) or revokes this access on the fake vault, through fake-akv's own
    /// access operations.
    pub(super) fn apply(&self, cx: &StepContext<'_>, grant: bool) -> Result<(), StepError> {
        let principal_id = cx
            .world
            .principals
            .get(&self.principal)
            .ok_or_else(|| StepError::UnknownPrincipal(self.principal.clone()))?
            .object_id;
        let change = AccessChange {
            principal_id,
            role: self.role.clone(),
            scope: self.scope.clone(),
            secrets: self.secrets.clone(),
        };
        let vault = cx.vault(self.vault.as_deref())?;
        if grant {
            vault.grant(&change).map(drop)
        } else {
            vault.revoke(&change).map(drop)
        }
        .map_err(|e| StepError::Invalid(format!("{}: {e}", self.describe())))
    }

    /// The vault and the principal.
    pub(super) fn references(&self) -> References<'_> {
        References {
            vault: self.vault.as_deref(),
            principal: Some(&self.principal),
            ..References::default()
        }
    }

    /// `ROLE|permissions to PRINCIPAL on VAULT`.
    pub(super) fn describe(&self) -> String {
        let what = self.role.clone().unwrap_or_else(|| self.secrets.join(", "));
        let vault = self.vault.as_deref().unwrap_or("the vault");
        format!("{what} for {} on {vault}", self.principal)
    }
}

/// Grants a role or access-policy permissions.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct GrantAccess(pub Access);

impl Step for GrantAccess {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        self.0.apply(cx, true)?;
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        format!("grant {}", self.0.describe())
    }

    fn references(&self) -> References<'_> {
        self.0.references()
    }
}
