//! The directory changes every caller goes through: the `/_emulator` routes, the harness's
//! steps, its CLI and its runner (which installs each scenario's tenant beside the others). Each finds its tenant and principal the same way, reads time from the
//! fake's own clock, and is written to the journal before it returns.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::directory::{
    App, ClientCertificate, ClientSecret, Directory, FederatedCredential, ManagedIdentity, Tenant,
    TrustedIssuer,
};
use crate::state::AppState;

/// Why a directory change was refused.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// No tenant with this id or domain.
    #[error("no tenant {0} in the directory")]
    TenantNotFound(String),
    /// No app with this client id in the tenant.
    #[error("no app {0} in the tenant")]
    AppNotFound(String),
    /// No app or managed identity with this client id in the tenant.
    #[error("no app or managed identity {0} in the tenant")]
    PrincipalNotFound(String),
    /// No client secret matches.
    #[error("app {0} has no matching client secret")]
    SecretNotFound(String),
    /// A client certificate's PEM is not an X.509 certificate.
    #[error("pem is not an X.509 certificate")]
    NotACertificate,
    /// The journal could not be written; the change is not kept.
    #[error("cannot write the directory journal: {0}")]
    Persist(#[from] std::io::Error),
}

/// A new client secret, as `az ad app credential reset` makes one.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewClientSecret {
    /// The value; generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// When it expires; never when absent.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub end: Option<OffsetDateTime>,
}

/// Which of an app's client secrets a change means.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretSelector {
    /// The secret with this key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<Uuid>,
    /// The secret with this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl SecretSelector {
    fn picks(&self, secret: &ClientSecret) -> bool {
        self.key_id.is_none_or(|id| id == secret.key_id)
            && self.value.as_ref().is_none_or(|v| *v == secret.value)
    }
}

fn tenant<'a>(directory: &'a mut Directory, id: &str) -> Result<&'a mut Tenant, DirectoryError> {
    directory
        .tenant_mut(id)
        .ok_or_else(|| DirectoryError::TenantNotFound(id.to_owned()))
}

fn app<'a>(tenant: &'a mut Tenant, client_id: &str) -> Result<&'a mut App, DirectoryError> {
    tenant
        .apps
        .iter_mut()
        .find(|a| a.app_id.to_string().eq_ignore_ascii_case(client_id))
        .ok_or_else(|| DirectoryError::AppNotFound(client_id.to_owned()))
}

/// Puts `item` at the end of `list` in place of every entry `same` as it (`same(entry, item)`),
/// the rule of every "add or replace" in the directory; returns the item.
fn replace_or_add<T: Clone>(list: &mut Vec<T>, item: T, same: impl Fn(&T, &T) -> bool) -> T {
    list.retain(|entry| !same(entry, &item));
    list.push(item.clone());
    item
}

impl AppState {
    /// Changes the app `client_id` of `tenant` and journals the result.
    fn change_app<T>(
        &self,
        tenant_id: &str,
        client_id: &str,
        change: impl FnOnce(&mut App) -> Result<T, DirectoryError>,
    ) -> Result<T, DirectoryError> {
        self.update_directory(|d| change(app(tenant(d, tenant_id)?, client_id)?))?
    }

    /// Adds a client secret to an app; the value is generated when not given.
    pub fn add_client_secret(
        &self,
        tenant_id: &str,
        client_id: &str,
        new: NewClientSecret,
    ) -> Result<ClientSecret, DirectoryError> {
        let secret = ClientSecret {
            key_id: Uuid::new_v4(),
            value: new
                .value
                .unwrap_or_else(|| format!("fake~{}", Uuid::new_v4().simple())),
            start: None,
            end: new.end,
        };
        self.change_app(tenant_id, client_id, |app| {
            app.secrets.push(secret.clone());
            Ok(secret)
        })
    }

    /// Sets when one client secret expires (`None`: never).
    pub fn set_client_secret_end(
        &self,
        tenant_id: &str,
        client_id: &str,
        key_id: Uuid,
        end: Option<OffsetDateTime>,
    ) -> Result<ClientSecret, DirectoryError> {
        self.change_app(tenant_id, client_id, |app| {
            let secret = app
                .secrets
                .iter_mut()
                .find(|s| s.key_id == key_id)
                .ok_or_else(|| DirectoryError::SecretNotFound(client_id.to_owned()))?;
            secret.end = end;
            Ok(secret.clone())
        })
    }

    /// Expires the client secrets `which` picks (every one when it names none) a second ago
    /// on the fake's clock, so Entra answers AADSTS7000222 from now on; returns their key ids.
    pub fn expire_client_secrets(
        &self,
        tenant_id: &str,
        client_id: &str,
        which: &SecretSelector,
    ) -> Result<Vec<Uuid>, DirectoryError> {
        let past = self.clock().now() - time::Duration::seconds(1);
        self.change_app(tenant_id, client_id, |app| {
            let expired: Vec<Uuid> = app
                .secrets
                .iter_mut()
                .filter(|s| which.picks(s))
                .map(|s| {
                    s.end = Some(past);
                    s.key_id
                })
                .collect();
            if expired.is_empty() {
                return Err(DirectoryError::SecretNotFound(client_id.to_owned()));
            }
            Ok(expired)
        })
    }

    /// Removes one client secret.
    pub fn remove_client_secret(
        &self,
        tenant_id: &str,
        client_id: &str,
        key_id: Uuid,
    ) -> Result<(), DirectoryError> {
        self.change_app(tenant_id, client_id, |app| {
            let before = app.secrets.len();
            app.secrets.retain(|s| s.key_id != key_id);
            if app.secrets.len() == before {
                return Err(DirectoryError::SecretNotFound(client_id.to_owned()));
            }
            Ok(())
        })
    }

    /// Trusts `credential` for the app or managed identity `client_id`; one of the same name
    /// is replaced.
    pub fn federate(
        &self,
        tenant_id: &str,
        client_id: &str,
        credential: FederatedCredential,
    ) -> Result<FederatedCredential, DirectoryError> {
        self.update_directory(|d| {
            let tenant = tenant(d, tenant_id)?;
            let same = |id: Uuid| id.to_string().eq_ignore_ascii_case(client_id);
            let list = if let Some(app) = tenant.apps.iter_mut().find(|a| same(a.app_id)) {
                &mut app.federated_credentials
            } else if let Some(mi) = tenant
                .managed_identities
                .iter_mut()
                .find(|m| same(m.client_id))
            {
                &mut mi.federated_credentials
            } else {
                return Err(DirectoryError::PrincipalNotFound(client_id.to_owned()));
            };
            // Unnamed credentials never replace one another.
            Ok(replace_or_add(list, credential, |a, b| {
                !b.name.is_empty() && a.name == b.name
            }))
        })?
    }

    /// Replaces the whole directory.
    pub fn replace_directory(&self, directory: Directory) -> Result<(), DirectoryError> {
        Ok(self.update_directory(|d| *d = directory)?)
    }

    /// Adds `tenant`, replacing one with the same id.
    pub fn put_tenant(&self, tenant: Tenant) -> Result<Tenant, DirectoryError> {
        Ok(self.update_directory(|d| replace_or_add(&mut d.tenants, tenant, |a, b| a.id == b.id))?)
    }

    /// Removes the tenant `id`; whether there was one.
    pub fn remove_tenant(&self, id: Uuid) -> Result<bool, DirectoryError> {
        Ok(self.update_directory(|d| {
            let before = d.tenants.len();
            d.tenants.retain(|t| t.id != id);
            d.tenants.len() != before
        })?)
    }

    /// Trusts `issuer`'s tokens for federation, replacing what was trusted under its URL.
    pub fn trust_issuer(&self, issuer: TrustedIssuer) -> Result<TrustedIssuer, DirectoryError> {
        Ok(self.update_directory(|d| {
            replace_or_add(&mut d.issuers, issuer, |a, b| a.issuer == b.issuer)
        })?)
    }

    /// The managed identity IMDS answers for when a caller asks for none.
    pub fn set_default_managed_identity(
        &self,
        client_id: Option<String>,
    ) -> Result<(), DirectoryError> {
        Ok(self.update_directory(|d| d.default_managed_identity = client_id)?)
    }

    /// Adds `app` to the tenant, replacing one with the same app id.
    pub fn put_app(&self, tenant_id: &str, app: App) -> Result<App, DirectoryError> {
        self.update_directory(|d| {
            let tenant = tenant(d, tenant_id)?;
            Ok(replace_or_add(&mut tenant.apps, app, |a, b| {
                a.app_id == b.app_id
            }))
        })?
    }

    /// Adds a managed identity to the tenant, replacing one with the same client id.
    pub fn put_managed_identity(
        &self,
        tenant_id: &str,
        identity: ManagedIdentity,
    ) -> Result<ManagedIdentity, DirectoryError> {
        self.update_directory(|d| {
            let tenant = tenant(d, tenant_id)?;
            Ok(replace_or_add(
                &mut tenant.managed_identities,
                identity,
                |a, b| a.client_id == b.client_id,
            ))
        })?
    }

    /// Registers a certificate an app may sign client assertions with.
    pub fn add_client_certificate(
        &self,
        tenant_id: &str,
        client_id: &str,
        certificate: ClientCertificate,
    ) -> Result<ClientCertificate, DirectoryError> {
        if crate::token::certificate_der(&certificate.pem).is_none() {
            return Err(DirectoryError::NotACertificate);
        }
        self.change_app(tenant_id, client_id, |app| {
            app.certificates.push(certificate.clone());
            Ok(certificate)
        })
    }
}
