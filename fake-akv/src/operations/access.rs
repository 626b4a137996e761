//! Who may do what on a vault: granting and revoking RBAC role assignments or access-policy
//! permissions, as `az role assignment create|delete` and `az keyvault set-policy|delete-policy`
//! do. One change is applied atomically under the vault's configuration lock, so concurrent
//! grants never lose one another.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::state::Vault;
use crate::vault::{AccessPolicy, Authorization, Permissions, RoleAssignment, SpecError};

/// A grant or a revocation: a role at a scope on an RBAC vault, or secret permissions on an
/// access-policy vault.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessChange {
    /// Object id of the service principal or managed identity (`oid`).
    pub principal_id: Uuid,
    /// RBAC vaults: a Key Vault built-in role name, e.g. `Key Vault Secrets User`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// RBAC vaults: `/` or `/secrets/NAME`. A grant without one is vault-wide (`/`); a
    /// revocation without one removes the role at every scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Access-policy vaults: secret permissions (`get`, `list`, ...). Revoking none removes
    /// the principal's whole policy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
}

/// Why an access change was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AccessError {
    /// An RBAC vault needs a role.
    #[error("vault {0} uses RBAC: name a role")]
    RoleMissing(String),
    /// An access-policy vault takes permissions, not roles.
    #[error("vault {0} uses access policies: list secret permissions, not a role")]
    RoleOnPolicyVault(String),
    /// Nothing to revoke.
    #[error("{principal} holds no {what} on vault {vault}")]
    NotHeld {
        /// The principal's object id.
        principal: Uuid,
        /// The role (and scope) or "access policy".
        what: String,
        /// The vault.
        vault: String,
    },
    /// The changed configuration is invalid (an unknown role).
    #[error(transparent)]
    Spec(#[from] SpecError),
}

/// What a grant did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Granted {
    /// The id of the new role assignment, or of the one already held.
    Assignment(Uuid),
    /// The access policy now holds the permissions.
    Policy,
}

impl Vault {
    /// Grants `change`; granting what is already held changes nothing.
    pub fn grant(&self, change: &AccessChange) -> Result<Granted, AccessError> {
        self.change_spec(|spec| match spec.authorization {
            Authorization::Rbac => {
                let role = change
                    .role
                    .as_ref()
                    .ok_or_else(|| AccessError::RoleMissing(spec.name.clone()))?;
                let scope = change.scope.clone().unwrap_or_else(|| "/".to_owned());
                if let Some(held) = spec.role_assignments.iter().find(|a| {
                    a.principal_id == change.principal_id
                        && a.role.eq_ignore_ascii_case(role)
                        && a.scope == scope
                }) {
                    return Ok(Granted::Assignment(held.id));
                }
                let id = Uuid::new_v4();
                spec.role_assignments.push(RoleAssignment {
                    id,
                    principal_id: change.principal_id,
                    role: role.clone(),
                    scope,
                });
                Ok(Granted::Assignment(id))
            }
            Authorization::AccessPolicies => {
                if change.role.is_some() {
                    return Err(AccessError::RoleOnPolicyVault(spec.name.clone()));
                }
                match spec
                    .access_policies
                    .iter_mut()
                    .find(|p| p.object_id == change.principal_id)
                {
                    Some(policy) => {
                        let granted = &mut policy.permissions.secrets;
                        for permission in &change.secrets {
                            if !granted.iter().any(|g| g.eq_ignore_ascii_case(permission)) {
                                granted.push(permission.clone());
                            }
                        }
                    }
                    None => spec.access_policies.push(AccessPolicy {
                        object_id: change.principal_id,
                        permissions: Permissions {
                            secrets: change.secrets.clone(),
                            ..Permissions::default()
                        },
                    }),
                }
                Ok(Granted::Policy)
            }
        })
    }

    /// Revokes `change`; returns how many role assignments or permissions went.
    pub fn revoke(&self, change: &AccessChange) -> Result<usize, AccessError> {
        self.change_spec(|spec| {
            let not_held = |what: String| AccessError::NotHeld {
                principal: change.principal_id,
                what,
                vault: spec.name.clone(),
            };
            match spec.authorization {
                Authorization::Rbac => {
                    let role = change
                        .role
                        .as_ref()
                        .ok_or_else(|| AccessError::RoleMissing(spec.name.clone()))?;
                    let before = spec.role_assignments.len();
                    spec.role_assignments.retain(|a| {
                        !(a.principal_id == change.principal_id
                            && a.role.eq_ignore_ascii_case(role)
                            && change.scope.as_ref().is_none_or(|s| *s == a.scope))
                    });
                    match before - spec.role_assignments.len() {
                        0 => Err(not_held(match &change.scope {
                            Some(scope) => format!("{role} at {scope}"),
                            None => role.clone(),
                        })),
                        removed => Ok(removed),
                    }
                }
                Authorization::AccessPolicies => {
                    if change.role.is_some() {
                        return Err(AccessError::RoleOnPolicyVault(spec.name.clone()));
                    }
                    let index = spec
                        .access_policies
                        .iter()
                        .position(|p| p.object_id == change.principal_id)
                        .ok_or_else(|| not_held("access policy".to_owned()))?;
                    if change.secrets.is_empty() {
                        let removed = spec.access_policies.remove(index);
                        return Ok(removed.permissions.secrets.len().max(1));
                    }
                    let granted = &mut spec.access_policies[index].permissions.secrets;
                    let before = granted.len();
                    granted.retain(|g| !change.secrets.iter().any(|r| r.eq_ignore_ascii_case(g)));
                    Ok(before - granted.len())
                }
            }
        })
    }
}
