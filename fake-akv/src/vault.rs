//! Vault configuration: the `--config` file format and the body of `/_emulator/vaults`.
//!
//! What a scenario declares is what the fake holds: name, tenant, authorization model (RBAC
//! role assignments or access policies), soft-delete settings and seed secrets.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::limits::ServiceLimits;

/// The whole configuration file.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmulatorConfig {
    /// The vaults.
    #[serde(default)]
    pub vaults: Vec<VaultSpec>,
    /// The vault answering on `127.0.0.1:PORT` / `localhost:PORT` (no vault name in the host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_vault: Option<String>,
}

impl EmulatorConfig {
    /// Parses YAML (a superset of JSON).
    pub fn from_yaml(text: &str) -> Result<Self, serde_yaml_ng::Error> {
        serde_yaml_ng::from_str(text)
    }
}

/// How a vault authorizes data-plane calls.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Authorization {
    /// Azure RBAC role assignments.
    #[default]
    Rbac,
    /// Vault access policies.
    AccessPolicies,
}

/// One vault.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultSpec {
    /// Vault name (3-24 characters), the first label of `{name}.vault.azure.net`.
    pub name: String,
    /// The tenant whose tokens the vault accepts and whose authority it challenges with.
    pub tenant_id: Uuid,
    /// RBAC or access policies.
    #[serde(default)]
    pub authorization: Authorization,
    /// Role assignments (RBAC vaults).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role_assignments: Vec<RoleAssignment>,
    /// Access policies (access-policy vaults).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_policies: Vec<AccessPolicy>,
    /// Days a deleted object stays recoverable (7..=90).
    #[serde(default = "default_retention")]
    pub soft_delete_retention_days: u32,
    /// Refuse purges while deleted objects are within retention.
    #[serde(default)]
    pub purge_protection: bool,
    /// Seconds a delete or recover takes to settle, as Key Vault's do asynchronously: until
    /// then a deleted object is neither live nor readable as deleted (404, purge 409) and a
    /// recovered one is not yet readable (404). 0 (the default) settles at once.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deletion_delay_seconds: u32,
    /// Azure region, shown in `x-ms-keyvault-region` and 403 messages.
    #[serde(default = "default_location")]
    pub location: String,
    /// Subscription of the vault's ARM id (403 RBAC messages).
    #[serde(default = "Uuid::nil")]
    pub subscription_id: Uuid,
    /// Resource group of the vault's ARM id.
    #[serde(default = "default_resource_group")]
    pub resource_group: String,
    /// Secrets present when the vault is created.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SeedSecret>,
    /// Key Vault's service limits (429 `Throttled` past them); none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_limits: Option<ServiceLimits>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` passes a reference
fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn default_retention() -> u32 {
    90
}

fn default_location() -> String {
    "eastus".to_owned()
}

fn default_resource_group() -> String {
    "fake-akv".to_owned()
}

/// A role assignment: `principalId` holds `role` at `scope`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleAssignment {
    /// Assignment id, echoed in `x-ms-keyvault-rbac-assignment-id`.
    #[serde(default = "Uuid::new_v4")]
    pub id: Uuid,
    /// Object id of the service principal, managed identity or user (`oid`).
    pub principal_id: Uuid,
    /// Built-in role name, e.g. `Key Vault Secrets User`.
    pub role: String,
    /// `/` for the whole vault, or `/secrets/{name}`, `/keys/{name}`, `/certificates/{name}`.
    #[serde(default = "default_scope")]
    pub scope: String,
}

fn default_scope() -> String {
    "/".to_owned()
}

/// An access policy entry.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessPolicy {
    /// Object id of the principal (`oid`).
    pub object_id: Uuid,
    /// Permissions per object kind.
    #[serde(default)]
    pub permissions: Permissions,
}

/// Access-policy permission lists (`get`, `list`, `set`, `delete`, `recover`, `backup`,
/// `restore`, `purge`; `all` grants every one).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Permissions {
    /// Secret permissions.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Key permissions.
    #[serde(default)]
    pub keys: Vec<String>,
    /// Certificate permissions.
    #[serde(default)]
    pub certificates: Vec<String>,
}

/// A secret created with the vault.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSecret {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
    /// Content type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Enabled (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Expires, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<i64>,
    /// Not before, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
}

/// Why a vault spec was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SpecError {
    /// Vault names are 3-24 characters of letters, digits and dashes.
    #[error("invalid vault name '{0}': 3-24 letters, digits and dashes")]
    Name(String),
    /// Retention outside 7..=90 days.
    #[error("softDeleteRetentionDays must be between 7 and 90, not {0}")]
    Retention(u32),
    /// A seed secret with an invalid name.
    #[error("invalid secret name '{0}'")]
    SecretName(String),
    /// A role assignment names no Key Vault built-in role.
    #[error("unknown role '{0}': use a Key Vault built-in role name or definition id")]
    UnknownRole(String),
}

impl VaultSpec {
    /// A vault with every other setting at its default (as a config file that names only
    /// `name` and `tenantId` gets): no role assignments, policies or secrets.
    #[must_use]
    pub fn new(name: &str, tenant_id: Uuid) -> Self {
        // Through serde, so the defaults stay in one place: the fields' `default` functions.
        serde_json::from_value(serde_json::json!({ "name": name, "tenantId": tenant_id }))
            .expect("a name and a tenant make a vault spec")
    }

    /// Checks the invariants the server relies on.
    pub fn validate(&self) -> Result<(), SpecError> {
        let name_ok = (3..=24).contains(&self.name.len())
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !name_ok {
            return Err(SpecError::Name(self.name.clone()));
        }
        if !(7..=90).contains(&self.soft_delete_retention_days) {
            return Err(SpecError::Retention(self.soft_delete_retention_days));
        }
        if let Some(bad) = self.secrets.iter().find(|s| !valid_object_name(&s.name)) {
            return Err(SpecError::SecretName(bad.name.clone()));
        }
        if let Some(bad) = self
            .role_assignments
            .iter()
            .find(|a| !crate::auth::roles::is_known_role(&a.role))
        {
            return Err(SpecError::UnknownRole(bad.role.clone()));
        }
        Ok(())
    }
}

/// `^[0-9a-zA-Z-]{1,127}$` (MicrosoftDocs `about-keys-secrets-certificates.md`).
#[must_use]
pub fn valid_object_name(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_config_parses_with_defaults() {
        let config = EmulatorConfig::from_yaml(
            r"
defaultVault: kv1
vaults:
  - name: kv1
    tenantId: 11111111-1111-1111-1111-111111111111
    roleAssignments:
      - principalId: 22222222-2222-2222-2222-222222222222
        role: Key Vault Secrets User
    secrets:
      - name: db-pass
        value: hunter2
  - name: kv2
    tenantId: 11111111-1111-1111-1111-111111111111
    authorization: accessPolicies
    softDeleteRetentionDays: 7
    accessPolicies:
      - objectId: 22222222-2222-2222-2222-222222222222
        permissions: { secrets: [get, list] }
",
        )
        .unwrap();
        assert_eq!(config.default_vault.as_deref(), Some("kv1"));
        let kv1 = &config.vaults[0];
        assert_eq!(kv1.authorization, Authorization::Rbac);
        assert_eq!(kv1.soft_delete_retention_days, 90);
        assert_eq!(kv1.role_assignments[0].scope, "/");
        kv1.validate().unwrap();
        assert_eq!(
            config.vaults[1].authorization,
            Authorization::AccessPolicies
        );
    }

    #[test]
    fn example_config_is_valid() {
        let config = EmulatorConfig::from_yaml(include_str!("../config.example.yaml")).unwrap();
        assert_eq!(config.vaults.len(), 2);
        for vault in &config.vaults {
            vault.validate().unwrap();
            for assignment in &vault.role_assignments {
                assert!(crate::auth::roles::is_known_role(&assignment.role));
            }
        }
    }

    #[test]
    fn invalid_specs_are_refused() {
        let mut spec = EmulatorConfig::from_yaml(
            "vaults: [{name: ok-vault, tenantId: 11111111-1111-1111-1111-111111111111}]",
        )
        .unwrap()
        .vaults
        .remove(0);
        spec.soft_delete_retention_days = 3;
        assert_eq!(spec.validate(), Err(SpecError::Retention(3)));
        spec.soft_delete_retention_days = 7;
        spec.name = "a_b".into();
        assert!(spec.validate().is_err());
        spec.name = "ok-vault".into();
        spec.role_assignments.push(RoleAssignment {
            id: Uuid::nil(),
            principal_id: Uuid::nil(),
            role: "Owner".into(),
            scope: "/".into(),
        });
        assert_eq!(spec.validate(), Err(SpecError::UnknownRole("Owner".into())));
        assert!(valid_object_name("a-B-9"));
        assert!(!valid_object_name("a.b"));
        assert!(!valid_object_name(&"a".repeat(128)));
    }
}
