//! `grantAccess`: gives a principal a role on a vault (RBAC vaults) or secret permissions in
//! its access policy (access-policy vaults), as `az role assignment create` or
//! `az keyvault set-policy` do. [`revokeAccess`](super::revoke_access) takes it back; both
//! change the vault through [`Access::apply`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Step, StepContext, StepError, StepOutcome};
use fake_akv::vault::{AccessPolicy, Authorization, Permissions, RoleAssignment, VaultSpec};

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
    /// RBAC vaults: `/` (default) for the whole vault, or `/secrets/NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Access-policy vaults: secret permissions (`get`, `list`, ...). Revoking with none
    /// listed removes the principal's whole policy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
}

impl Access {
    /// Grants (`grant`) or revokes this access on the fake vault.
    pub(super) fn apply(&self, cx: &StepContext<'_>, grant: bool) -> Result<(), StepError> {
        let principal = cx
            .world
            .principals
            .get(&self.principal)
            .ok_or_else(|| StepError::UnknownPrincipal(self.principal.clone()))?
            .object_id;
        let vault = cx.vault(self.vault.as_deref())?;
        let mut spec = VaultSpec::clone(&vault.spec());
        let scope = self.scope.clone().unwrap_or_else(|| "/".into());
        match spec.authorization {
            Authorization::Rbac => {
                let role = self.role.as_ref().ok_or_else(|| {
                    StepError::Invalid(format!("vault {} uses RBAC: name a `role`", spec.name))
                })?;
                let held = |a: &RoleAssignment| {
                    a.principal_id == principal
                        && a.role.eq_ignore_ascii_case(role)
                        && a.scope == scope
                };
                if grant {
                    if !spec.role_assignments.iter().any(held) {
                        spec.role_assignments.push(RoleAssignment {
                            id: Uuid::new_v4(),
                            principal_id: principal,
                            role: role.clone(),
                            scope,
                        });
                    }
                } else {
                    let before = spec.role_assignments.len();
                    spec.role_assignments.retain(|a| !held(a));
                    if spec.role_assignments.len() == before {
                        return Err(StepError::Invalid(format!(
                            "{} holds no {role} at {scope} on vault {}",
                            self.principal, spec.name
                        )));
                    }
                }
            }
            Authorization::AccessPolicies => {
                if self.role.is_some() {
                    return Err(StepError::Invalid(format!(
                        "vault {} uses access policies: list `secrets` permissions, not a role",
                        spec.name
                    )));
                }
                let index = spec
                    .access_policies
                    .iter()
                    .position(|p| p.object_id == principal);
                match (grant, index) {
                    (true, Some(i)) => {
                        let granted = &mut spec.access_policies[i].permissions.secrets;
                        for permission in &self.secrets {
                            if !granted.iter().any(|g| g.eq_ignore_ascii_case(permission)) {
                                granted.push(permission.clone());
                            }
                        }
                    }
                    (true, None) => spec.access_policies.push(AccessPolicy {
                        object_id: principal,
                        permissions: Permissions {
                            secrets: self.secrets.clone(),
                            ..Permissions::default()
                        },
                    }),
                    (false, Some(i)) if self.secrets.is_empty() => {
                        spec.access_policies.remove(i);
                    }
                    (false, Some(i)) => spec.access_policies[i]
                        .permissions
                        .secrets
                        .retain(|g| !self.secrets.iter().any(|r| r.eq_ignore_ascii_case(g))),
                    (false, None) => {
                        return Err(StepError::Invalid(format!(
                            "{} has no access policy on vault {}",
                            self.principal, spec.name
                        )));
                    }
                }
            }
        }
        let what = if grant {
            "grant access"
        } else {
            "revoke access"
        };
        cx.bench
            .akv()
            .state()
            .put_vault(spec)
            .map_err(|e| StepError::refused(what, e))?;
        Ok(())
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
}
