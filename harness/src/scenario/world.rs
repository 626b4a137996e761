//! The Azure world of a scenario, resolved: fresh GUIDs, names turned into object ids, and
//! the fakes' own shapes ([`Directory`], [`VaultSpec`]) plus the bindings that expose them.

use std::collections::BTreeMap;

use fake_aad::Directory;
use fake_aad::directory::{App, ClientSecret, FederatedCredential, ManagedIdentity, Tenant};
use fake_akv::VaultSpec;
use fake_akv::vault::{AccessPolicy, Authorization, Permissions, RoleAssignment};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Bindings;
use super::spec::{
    AppSpec, AuthorizationSpec, AzureSpec, FederatedCredentialSpec, IdentitySpec,
    RoleAssignmentSpec, SeedSecretSpec, VaultDecl,
};

/// A principal a name refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrincipalIds {
    /// Client id (app id or managed identity client id).
    pub client_id: Uuid,
    /// Object id (`oid`).
    pub object_id: Uuid,
    /// Whether this is an app registration (client secrets live there).
    pub is_app: bool,
}

/// The resolved world.
#[derive(Clone, Debug)]
pub struct World {
    /// fake-aad's directory.
    pub directory: Directory,
    /// fake-akv's vaults.
    pub vaults: Vec<VaultSpec>,
    /// The tenant id.
    pub tenant_id: Uuid,
    /// Principals by name.
    pub principals: BTreeMap<String, PrincipalIds>,
    /// The name each declared vault has in fake-akv (see [`vault_name`]).
    pub vault_names: BTreeMap<String, String>,
}

/// The name a declared vault gets in fake-akv: the declared name plus a suffix unique to this
/// run of the scenario, so scenarios running at the same time (`--jobs`) never share a vault
/// host name. Kept within Azure's rules (3-24 characters, no trailing or doubled hyphen).
#[must_use]
pub fn vault_name(declared: &str) -> String {
    let mut base: String = declared.chars().take(19).collect();
    while base.ends_with('-') {
        base.pop();
    }
    format!("{base}-{}", &Uuid::new_v4().simple().to_string()[..4])
}

/// The world of a scenario without `azure`: the seed articles' setup.
#[must_use]
pub fn default_azure() -> AzureSpec {
    AzureSpec {
        apps: vec![AppSpec {
            name: "eso-app".into(),
            secrets: None,
            federated_credentials: vec![],
        }],
        managed_identities: vec![IdentitySpec {
            name: "eso-identity".into(),
            federated_credentials: vec![],
        }],
        vaults: vec![VaultDecl {
            name: crate::serve::DEFAULT_VAULT.into(),
            authorization: AuthorizationSpec::Rbac,
            role_assignments: vec![RoleAssignmentSpec {
                principal: "eso-app".into(),
                role: "Key Vault Secrets Officer".into(),
                scope: None,
            }],
            access_policies: vec![],
            soft_delete_retention_days: None,
            purge_protection: false,
            deletion_delay_seconds: None,
            secrets: vec![],
            service_limits: None,
        }],
        ..AzureSpec::default()
    }
}

/// Why a world cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorldError {
    /// A role assignment or access policy names no app or identity.
    #[error(
        "vault {vault}: unknown principal `{principal}` (declare it under azure.apps or azure.managedIdentities)"
    )]
    UnknownPrincipal {
        /// The vault.
        vault: String,
        /// The name.
        principal: String,
    },
    /// Two apps or identities share a name.
    #[error("principal name `{0}` is declared twice")]
    DuplicatePrincipal(String),
    /// fake-akv refuses the vault.
    #[error("vault {vault}: {message}")]
    Vault {
        /// The vault.
        vault: String,
        /// Why.
        message: String,
    },
}

impl World {
    /// Resolves `spec`: generates ids, binds them, and builds the fakes' shapes. `now` is the
    /// fakes' clock, for secret expiry.
    pub fn build(
        spec: &AzureSpec,
        now: OffsetDateTime,
        bindings: &mut Bindings,
    ) -> Result<Self, WorldError> {
        let tenant_id = Uuid::new_v4();
        bindings.set("tenantId", tenant_id.to_string());
        let mut principals = BTreeMap::new();
        let mut apps = Vec::new();
        for (index, app) in spec.apps.iter().enumerate() {
            let built = build_app(app, now);
            let ids = PrincipalIds {
                client_id: built.app_id,
                object_id: built.object_id,
                is_app: true,
            };
            if principals.insert(app.name.clone(), ids).is_some() {
                return Err(WorldError::DuplicatePrincipal(app.name.clone()));
            }
            let prefix = format!("app.{}", app.name);
            bindings.set(format!("{prefix}.clientId"), built.app_id.to_string());
            bindings.set(format!("{prefix}.objectId"), built.object_id.to_string());
            if let Some(secret) = built.secrets.first() {
                bindings.set(format!("{prefix}.clientSecret"), secret.value.clone());
            }
            if index == 0 {
                bindings.set("clientId", built.app_id.to_string());
                bindings.set("objectId", built.object_id.to_string());
                if let Some(secret) = built.secrets.first() {
                    bindings.set("clientSecret", secret.value.clone());
                }
            }
            apps.push(built);
        }
        let mut identities = Vec::new();
        for identity in &spec.managed_identities {
            let built = ManagedIdentity {
                name: identity.name.clone(),
                client_id: Uuid::new_v4(),
                principal_id: Uuid::new_v4(),
                resource_id: None,
                federated_credentials: federated(&identity.federated_credentials),
            };
            let ids = PrincipalIds {
                client_id: built.client_id,
                object_id: built.principal_id,
                is_app: false,
            };
            if principals.insert(identity.name.clone(), ids).is_some() {
                return Err(WorldError::DuplicatePrincipal(identity.name.clone()));
            }
            let prefix = format!("identity.{}", identity.name);
            bindings.set(format!("{prefix}.clientId"), built.client_id.to_string());
            bindings.set(
                format!("{prefix}.principalId"),
                built.principal_id.to_string(),
            );
            identities.push(built);
        }
        let directory = Directory {
            tenants: vec![Tenant {
                id: tenant_id,
                display_name: spec
                    .tenant
                    .display_name
                    .clone()
                    .unwrap_or_else(|| "Default Directory".into()),
                domains: spec.tenant.domains.clone(),
                apps,
                managed_identities: identities,
            }],
            issuers: vec![],
            default_managed_identity: spec.managed_identities.first().map(|m| m.name.clone()),
        };
        let mut vaults = Vec::new();
        let mut vault_names = BTreeMap::new();
        for (index, vault) in spec.vaults.iter().enumerate() {
            let name = vault_name(&vault.name);
            let built = build_vault(vault, &name, tenant_id, &principals)?;
            let url = fake_kit::Cloud::from(spec.cloud).vault_url(&name);
            bindings.set(format!("vault.{}.url", vault.name), url.clone());
            bindings.set(format!("vault.{}.name", vault.name), name.clone());
            if index == 0 {
                bindings.set("vaultUrl", url);
                bindings.set("vaultName", name.clone());
            }
            vault_names.insert(vault.name.clone(), name);
            vaults.push(built);
        }
        Ok(Self {
            directory,
            vaults,
            tenant_id,
            principals,
            vault_names,
        })
    }

    /// The first vault's name in fake-akv.
    #[must_use]
    pub fn default_vault(&self) -> Option<&str> {
        self.vaults.first().map(|v| v.name.as_str())
    }

    /// The fake-akv name of the vault a step calls `name`: a declared name, or already the
    /// suffixed one (as `${vaultName}` gives it).
    #[must_use]
    pub fn vault(&self, name: &str) -> Option<&str> {
        self.vault_names.get(name).map(String::as_str).or_else(|| {
            self.vault_names
                .values()
                .find(|n| *n == name)
                .map(String::as_str)
        })
    }

    /// Whether `vault` (a fake-akv name) is one of this world's vaults.
    #[must_use]
    pub fn owns_vault(&self, vault: &str) -> bool {
        self.vault_names
            .values()
            .any(|n| n.eq_ignore_ascii_case(vault))
    }

    /// Whether `id` (a client id or object id) is one of this world's principals.
    #[must_use]
    pub fn owns_principal(&self, id: &str) -> bool {
        self.principals
            .values()
            .any(|p| p.client_id.to_string() == id || p.object_id.to_string() == id)
    }
}

fn build_app(app: &AppSpec, now: OffsetDateTime) -> App {
    let secrets = match &app.secrets {
        None => vec![ClientSecret {
            key_id: Uuid::new_v4(),
            value: generated_secret(),
            start: None,
            end: None,
        }],
        Some(list) => list
            .iter()
            .map(|s| ClientSecret {
                key_id: Uuid::new_v4(),
                value: s.value.clone().unwrap_or_else(generated_secret),
                start: None,
                end: s.expires_in.as_ref().map(|d| now + d.get()),
            })
            .collect(),
    };
    App {
        app_id: Uuid::new_v4(),
        object_id: Uuid::new_v4(),
        display_name: app.name.clone(),
        secrets,
        certificates: vec![],
        federated_credentials: federated(&app.federated_credentials),
    }
}

/// A client secret value shaped like Entra's (`xxx~...`).
#[must_use]
pub fn generated_secret() -> String {
    format!("harness~{}", Uuid::new_v4().simple())
}

fn federated(list: &[FederatedCredentialSpec]) -> Vec<FederatedCredential> {
    list.iter().map(federated_credential).collect()
}

/// The directory's form of a declared federated credential (Entra's default audience when
/// none is listed).
#[must_use]
pub fn federated_credential(spec: &FederatedCredentialSpec) -> FederatedCredential {
    FederatedCredential {
        name: spec.name.clone(),
        issuer: spec.issuer.clone(),
        subject: spec.subject.clone(),
        audiences: if spec.audiences.is_empty() {
            vec![fake_aad::directory::TOKEN_EXCHANGE_AUDIENCE.to_owned()]
        } else {
            spec.audiences.clone()
        },
    }
}

fn build_vault(
    vault: &VaultDecl,
    name: &str,
    tenant_id: Uuid,
    principals: &BTreeMap<String, PrincipalIds>,
) -> Result<VaultSpec, WorldError> {
    let lookup = |name: &str| {
        principals
            .get(name)
            .map(|p| p.object_id)
            .ok_or_else(|| WorldError::UnknownPrincipal {
                vault: vault.name.clone(),
                principal: name.to_owned(),
            })
    };
    let mut role_assignments = Vec::new();
    for assignment in &vault.role_assignments {
        role_assignments.push(RoleAssignment {
            id: Uuid::new_v4(),
            principal_id: lookup(&assignment.principal)?,
            role: assignment.role.clone(),
            scope: assignment.scope.clone().unwrap_or_else(|| "/".into()),
        });
    }
    let mut access_policies = Vec::new();
    for policy in &vault.access_policies {
        access_policies.push(AccessPolicy {
            object_id: lookup(&policy.principal)?,
            permissions: Permissions {
                secrets: policy.secrets.clone(),
                ..Permissions::default()
            },
        });
    }
    let mut spec = VaultSpec::new(name, tenant_id);
    spec.authorization = match vault.authorization {
        AuthorizationSpec::Rbac => Authorization::Rbac,
        AuthorizationSpec::AccessPolicies => Authorization::AccessPolicies,
    };
    spec.role_assignments = role_assignments;
    spec.access_policies = access_policies;
    if let Some(days) = vault.soft_delete_retention_days {
        spec.soft_delete_retention_days = days;
    }
    spec.purge_protection = vault.purge_protection;
    if let Some(seconds) = vault.deletion_delay_seconds {
        spec.deletion_delay_seconds = seconds;
    }
    spec.secrets = vault.secrets.iter().map(seed).collect();
    spec.service_limits.clone_from(&vault.service_limits);
    spec.validate().map_err(|e| WorldError::Vault {
        vault: vault.name.clone(),
        message: e.to_string(),
    })?;
    Ok(spec)
}

fn seed(secret: &SeedSecretSpec) -> fake_akv::vault::SeedSecret {
    fake_akv::vault::SeedSecret {
        name: secret.name.clone(),
        value: secret.value.clone(),
        content_type: secret.content_type.clone(),
        tags: secret.tags.clone(),
        enabled: secret.enabled,
        expires: None,
        not_before: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_world_binds_ids_and_grants_the_app() {
        let mut bindings = Bindings::default();
        let world =
            World::build(&default_azure(), OffsetDateTime::now_utc(), &mut bindings).unwrap();
        let app = &world.directory.tenants[0].apps[0];
        assert_eq!(
            bindings.get("clientId"),
            Some(app.app_id.to_string().as_str())
        );
        assert_eq!(
            bindings.get("clientSecret"),
            Some(app.secrets[0].value.as_str())
        );
        let name = bindings.get("vaultName").unwrap();
        assert!(name.starts_with("my-key-vault-"), "{name}");
        assert_eq!(
            bindings.get("vaultUrl"),
            Some(format!("https://{name}.vault.azure.net").as_str())
        );
        assert_eq!(world.vault("my-key-vault"), Some(name));
        assert_eq!(
            world.vaults[0].role_assignments[0].principal_id,
            app.object_id
        );
    }

    #[test]
    fn vault_name_keeps_azure_rules_and_differs_per_call() {
        let long = vault_name("a-twenty-three-chars-xx");
        assert!(long.len() <= 24 && !long.contains("--"), "{long}");
        let short = vault_name("kv-");
        assert!(short.starts_with("kv-") && !short.contains("--"), "{short}");
        assert_ne!(vault_name("kv"), vault_name("kv"));
    }

    #[test]
    fn unknown_principal_is_refused() {
        let mut spec = default_azure();
        spec.vaults[0].role_assignments[0].principal = "ghost".into();
        let error =
            World::build(&spec, OffsetDateTime::now_utc(), &mut Bindings::default()).unwrap_err();
        assert!(matches!(error, WorldError::UnknownPrincipal { .. }));
    }

    #[test]
    fn sovereign_world_binds_the_clouds_vault_url() {
        let mut spec = default_azure();
        spec.cloud = crate::scenario::spec::CloudSpec::USGovernmentCloud;
        let mut bindings = Bindings::default();
        let world = World::build(&spec, OffsetDateTime::now_utc(), &mut bindings).unwrap();
        let name = &world.vault_names["my-key-vault"];
        assert_eq!(
            bindings.get("vaultUrl"),
            Some(format!("https://{name}.vault.usgovcloudapi.net").as_str())
        );
    }
}
