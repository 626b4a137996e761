//! The declared world, and the directory and vault files the container starts from.

use std::path::Path;

use fake_aad::Directory;
use fake_aad::directory::{App, ClientSecret, ManagedIdentity, Tenant};
use fake_akv::vault::{Authorization, RoleAssignment, SeedSecret};
use fake_akv::{EmulatorConfig, VaultSpec};
use uuid::Uuid;

use crate::Error;

/// The state directory's directory journal (`harness serve` keeps it there).
const DIRECTORY_JOURNAL: &str = "directory.json";

/// One tenant with its apps, managed identities and vaults, each with fresh ids.
#[derive(Clone, Debug)]
pub struct World {
    directory: Directory,
    vaults: Vec<VaultSpec>,
    /// Declared before their vault or principal may be: resolved by [`World::files`].
    secrets: Vec<(String, SeedSecret)>,
    roles: Vec<Role>,
}

#[derive(Clone, Debug)]
struct Role {
    principal: String,
    name: String,
    vault: String,
    scope: String,
}

impl Default for World {
    fn default() -> Self {
        Self {
            directory: Directory {
                tenants: vec![Tenant {
                    id: Uuid::new_v4(),
                    display_name: "Default Directory".to_owned(),
                    domains: vec!["bench.onmicrosoft.com".to_owned()],
                    apps: vec![],
                    managed_identities: vec![],
                }],
                issuers: vec![],
                default_managed_identity: None,
            },
            vaults: vec![],
            secrets: vec![],
            roles: vec![],
        }
    }
}

impl World {
    /// The world a state directory holds (its directory journal); its vaults are whatever the
    /// vault state says, so none is listed here.
    pub fn from_state_dir(dir: &Path) -> Result<Self, Error> {
        let path = dir.join(DIRECTORY_JOURNAL);
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let directory = Directory::from_yaml(&text)
            .map_err(|e| Error::World(format!("{}: {e}", path.display())))?;
        Ok(Self {
            directory,
            ..Self::default()
        })
    }

    fn tenant(&self) -> &Tenant {
        &self.directory.tenants[0]
    }

    fn tenant_mut(&mut self) -> &mut Tenant {
        &mut self.directory.tenants[0]
    }

    /// The tenant's id.
    #[must_use]
    pub fn tenant_id(&self) -> Uuid {
        self.tenant().id
    }

    /// The app registration named `name`.
    #[must_use]
    pub fn app(&self, name: &str) -> Option<&App> {
        self.tenant().apps.iter().find(|a| a.display_name == name)
    }

    /// The managed identity named `name`.
    #[must_use]
    pub fn managed_identity(&self, name: &str) -> Option<&ManagedIdentity> {
        self.tenant()
            .managed_identities
            .iter()
            .find(|m| m.name == name)
    }

    /// The declared vaults' names, in order.
    pub fn vaults(&self) -> impl Iterator<Item = &str> {
        self.vaults.iter().map(|v| v.name.as_str())
    }

    pub(crate) fn add_vault(&mut self, name: &str) {
        let mut vault = VaultSpec::new(name, self.tenant_id());
        vault.authorization = Authorization::Rbac;
        self.vaults.push(vault);
    }

    pub(crate) fn add_secret(&mut self, vault: &str, name: &str, value: &str) {
        let secret = serde_json::json!({ "name": name, "value": value });
        let secret: SeedSecret = serde_json::from_value(secret).expect("a minimal secret");
        self.secrets.push((vault.to_owned(), secret));
    }

    pub(crate) fn add_app(&mut self, name: &str) {
        self.tenant_mut().apps.push(App {
            app_id: Uuid::new_v4(),
            object_id: Uuid::new_v4(),
            display_name: name.to_owned(),
            secrets: vec![ClientSecret {
                key_id: Uuid::new_v4(),
                value: format!("bench~{}", Uuid::new_v4().simple()),
                start: None,
                end: None,
            }],
            certificates: vec![],
            federated_credentials: vec![],
        });
    }

    pub(crate) fn add_managed_identity(&mut self, name: &str) {
        self.tenant_mut().managed_identities.push(ManagedIdentity {
            name: name.to_owned(),
            client_id: Uuid::new_v4(),
            principal_id: Uuid::new_v4(),
            resource_id: None,
            federated_credentials: vec![],
        });
    }

    pub(crate) fn add_role(&mut self, principal: &str, role: &str, vault: &str, scope: &str) {
        self.roles.push(Role {
            principal: principal.to_owned(),
            name: role.to_owned(),
            vault: vault.to_owned(),
            scope: scope.to_owned(),
        });
    }

    /// The object id of the app or managed identity named `name`.
    fn principal(&self, name: &str) -> Option<Uuid> {
        self.app(name)
            .map(|a| a.object_id)
            .or_else(|| self.managed_identity(name).map(|m| m.principal_id))
    }

    /// The directory file and the vault file, JSON; an error names what a secret or a role
    /// refers to that the world does not declare.
    pub fn files(&self) -> Result<(Vec<u8>, Vec<u8>), Error> {
        let mut vaults = self.vaults.clone();
        let index_of = |name: &str, what: &str| {
            self.vaults
                .iter()
                .position(|v| v.name == name)
                .ok_or_else(|| {
                    Error::World(format!(
                        "{what} names vault {name}, which is not declared (with_vault)"
                    ))
                })
        };
        for (vault, secret) in &self.secrets {
            let index = index_of(vault, &format!("secret {}", secret.name))?;
            vaults[index].secrets.push(secret.clone());
        }
        for role in &self.roles {
            let what = format!("role {} for {}", role.name, role.principal);
            let index = index_of(&role.vault, &what)?;
            let principal_id = self.principal(&role.principal).ok_or_else(|| {
                Error::World(format!(
                    "{what}: no app or managed identity is called {} (with_app, with_managed_identity)",
                    role.principal
                ))
            })?;
            vaults[index].role_assignments.push(RoleAssignment {
                id: Uuid::new_v4(),
                principal_id,
                role: role.name.clone(),
                scope: role.scope.clone(),
            });
        }
        let config = EmulatorConfig {
            default_vault: vaults.first().map(|v| v.name.clone()),
            vaults,
        };
        Ok((
            serde_json::to_vec_pretty(&self.directory).expect("a directory serialises"),
            serde_json::to_vec_pretty(&config).expect("vaults serialise"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_secrets_land_in_their_vault_with_the_principal_ids() {
        let mut world = World::default();
        world.add_vault("kv");
        world.add_app("svc");
        world.add_managed_identity("mi");
        world.add_secret("kv", "db", "pw");
        world.add_role("svc", "Key Vault Secrets User", "kv", "/");
        world.add_role("mi", "Key Vault Reader", "kv", "/secrets/db");
        let (_, vaults) = world.files().expect("files");
        let config: EmulatorConfig = serde_json::from_slice(&vaults).expect("vaults parse");
        let vault = &config.vaults[0];
        assert_eq!(config.default_vault.as_deref(), Some("kv"));
        assert_eq!(vault.secrets[0].value, "pw");
        assert_eq!(
            vault.role_assignments[0].principal_id,
            world.app("svc").unwrap().object_id
        );
        assert_eq!(
            vault.role_assignments[1].principal_id,
            world.managed_identity("mi").unwrap().principal_id
        );
        assert_eq!(vault.role_assignments[1].scope, "/secrets/db");
    }

    #[test]
    fn undeclared_vaults_and_principals_are_named() {
        let mut world = World::default();
        world.add_secret("nope", "db", "pw");
        let err = world.files().unwrap_err().to_string();
        assert!(err.contains("vault nope"), "{err}");
        let mut world = World::default();
        world.add_vault("kv");
        world.add_role("ghost", "Key Vault Secrets User", "kv", "/");
        let err = world.files().unwrap_err().to_string();
        assert!(
            err.contains("no app or managed identity is called ghost"),
            "{err}"
        );
    }
}
