//! Authorization: a caller's role assignments matched against the data action an operation
//! needs ([`super::roles`] holds the built-in roles), or its access policy against the
//! permission name. Action names: MicrosoftDocs/azure-docs
//! `articles/role-based-access-control/built-in-roles/security.md` and the 403 captures in §3.4.

use uuid::Uuid;

use super::Caller;
use super::roles::role_actions;
use crate::error::AkvError;
use crate::kind::ObjectKind;
use crate::vault::{Authorization, VaultSpec};

/// What an operation needs: a data action under RBAC, a permission under access policies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// Object kind.
    pub kind: ObjectKind,
    /// RBAC data action, e.g. `Microsoft.KeyVault/vaults/secrets/getSecret/action`.
    pub action: &'static str,
    /// Access-policy permission, e.g. `get`.
    pub permission: &'static str,
    /// The object name, for object-scoped assignments; `None` for vault-wide operations.
    pub object: Option<String>,
}

/// ARM action matching: case-insensitive, `*` spans one or more path characters.
fn action_matches(pattern: &str, action: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let action = action.to_ascii_lowercase();
    match pattern.split_once('*') {
        None => pattern == action,
        Some((prefix, suffix)) => {
            action.len() > prefix.len() + suffix.len()
                && action.starts_with(prefix)
                && action.ends_with(suffix)
        }
    }
}

/// Whether an assignment at `scope` covers `requirement`: `/` covers the vault, and
/// `/{kind}/{name}` covers that one object.
fn scope_covers(scope: &str, requirement: &Requirement) -> bool {
    let scope = scope.trim_end_matches('/');
    if scope.is_empty() {
        return true;
    }
    let Some(object) = &requirement.object else {
        return false;
    };
    let wanted = format!("/{}/{object}", requirement.kind.as_str());
    scope.eq_ignore_ascii_case(&wanted)
}

/// Authorizes `caller` on the vault. `Ok(Some(id))` names the RBAC assignment that granted
/// access (for `x-ms-keyvault-rbac-assignment-id`).
pub fn authorize(
    spec: &VaultSpec,
    caller: &Caller,
    requirement: &Requirement,
) -> Result<Option<Uuid>, AkvError> {
    let oid = Uuid::parse_str(&caller.oid).ok();
    match spec.authorization {
        Authorization::Rbac => {
            let granted = spec.role_assignments.iter().find(|a| {
                Some(a.principal_id) == oid
                    && scope_covers(&a.scope, requirement)
                    && role_actions(&a.role).is_some_and(|actions| {
                        actions
                            .iter()
                            .any(|p| action_matches(p, requirement.action))
                    })
            });
            match granted {
                Some(assignment) => Ok(Some(assignment.id)),
                None => Err(AkvError::ForbiddenByRbac {
                    caller: caller.describe(),
                    action: requirement.action.to_owned(),
                    resource: resource_id(spec, requirement),
                    vault: spec.name.clone(),
                    location: spec.location.clone(),
                }),
            }
        }
        Authorization::AccessPolicies => {
            let allowed = spec.access_policies.iter().any(|p| {
                Some(p.object_id) == oid && {
                    let list = match requirement.kind {
                        ObjectKind::Secrets => &p.permissions.secrets,
                        ObjectKind::Keys => &p.permissions.keys,
                        ObjectKind::Certificates => &p.permissions.certificates,
                    };
                    list.iter().any(|g| {
                        g.eq_ignore_ascii_case(requirement.permission)
                            || g.eq_ignore_ascii_case("all")
                    })
                }
            });
            if allowed {
                Ok(None)
            } else {
                Err(AkvError::ForbiddenByPolicy {
                    caller: caller.describe(),
                    kind: requirement.kind.as_str(),
                    permission: requirement.permission,
                    vault: spec.name.clone(),
                    location: spec.location.clone(),
                })
            }
        }
    }
}

/// The ARM id printed in RBAC 403s, lower-case provider segment as recorded (§3.4).
fn resource_id(spec: &VaultSpec, requirement: &Requirement) -> String {
    let vault = format!(
        "/subscriptions/{}/resourcegroups/{}/providers/microsoft.keyvault/vaults/{}",
        spec.subscription_id, spec.resource_group, spec.name
    );
    match &requirement.object {
        Some(object) => format!("{vault}/{}/{object}", requirement.kind.as_str()),
        None => vault,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::{AccessPolicy, EmulatorConfig, Permissions, RoleAssignment};

    fn spec() -> VaultSpec {
        EmulatorConfig::from_yaml(
            "vaults: [{name: kv1, tenantId: 00000000-0000-0000-0000-000000000001}]",
        )
        .unwrap()
        .vaults
        .remove(0)
    }

    fn caller(oid: u128) -> Caller {
        Caller {
            oid: Uuid::from_u128(oid).to_string(),
            appid: "app".into(),
            iss: "https://sts.windows.net/x/".into(),
        }
    }

    fn get(name: &str) -> Requirement {
        Requirement {
            kind: ObjectKind::Secrets,
            action: "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            permission: "get",
            object: Some(name.into()),
        }
    }

    fn list() -> Requirement {
        Requirement {
            kind: ObjectKind::Secrets,
            action: "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
            permission: "list",
            object: None,
        }
    }

    #[test]
    fn roles_grant_their_data_actions() {
        assert!(action_matches(
            "Microsoft.KeyVault/vaults/*",
            "Microsoft.KeyVault/vaults/secrets/getSecret/action"
        ));
        assert!(action_matches(
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/keys/read"
        ));
        assert!(!action_matches(
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/secrets/getSecret/action"
        ));
    }

    #[test]
    fn object_scoped_assignment_covers_only_that_secret() {
        let mut spec = spec();
        spec.role_assignments.push(RoleAssignment {
            id: Uuid::from_u128(9),
            principal_id: Uuid::from_u128(5),
            role: "Key Vault Secrets User".into(),
            scope: "/secrets/one".into(),
        });
        assert_eq!(
            authorize(&spec, &caller(5), &get("ONE")),
            Ok(Some(Uuid::from_u128(9)))
        );
        assert!(authorize(&spec, &caller(5), &get("two")).is_err());
        assert!(authorize(&spec, &caller(5), &list()).is_err());
        let Err(AkvError::ForbiddenByRbac { resource, .. }) =
            authorize(&spec, &caller(6), &get("one"))
        else {
            panic!("expected ForbiddenByRbac");
        };
        assert!(resource.ends_with("/providers/microsoft.keyvault/vaults/kv1/secrets/one"));
    }

    #[test]
    fn reader_cannot_read_values() {
        let mut spec = spec();
        spec.role_assignments.push(RoleAssignment {
            id: Uuid::nil(),
            principal_id: Uuid::from_u128(5),
            role: "Key Vault Reader".into(),
            scope: "/".into(),
        });
        assert!(authorize(&spec, &caller(5), &list()).is_ok());
        assert!(authorize(&spec, &caller(5), &get("x")).is_err());
    }

    #[test]
    fn access_policies_check_permission_names() {
        let mut spec = spec();
        spec.authorization = Authorization::AccessPolicies;
        spec.access_policies.push(AccessPolicy {
            object_id: Uuid::from_u128(5),
            permissions: Permissions {
                secrets: vec!["Get".into()],
                ..Permissions::default()
            },
        });
        assert_eq!(authorize(&spec, &caller(5), &get("x")), Ok(None));
        assert!(matches!(
            authorize(&spec, &caller(5), &list()),
            Err(AkvError::ForbiddenByPolicy {
                permission: "list",
                ..
            })
        ));
    }
}
