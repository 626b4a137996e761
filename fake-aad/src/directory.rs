//! The directory: tenants, app registrations with their service principals and credentials,
//! user-assigned managed identities, federated identity credentials, and the external issuers
//! Entra trusts for workload identity.
//!
//! This is also the file format of `--directory` and of the admin API: what a scenario declares
//! is what the fake holds, so an export reads like the input that produced it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// The audience Entra expects on federated assertions unless a credential says otherwise.
/// Source: MicrosoftDocs/entra-docs `workload-identity-federation-create-trust.md` ("api://AzureADTokenExchange").
pub const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// Everything the fake knows.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Directory {
    /// Tenants, each with its apps and managed identities.
    #[serde(default)]
    pub tenants: Vec<Tenant>,
    /// External OIDC issuers (e.g. a Kubernetes service-account issuer) and their keys.
    #[serde(default)]
    pub issuers: Vec<TrustedIssuer>,
    /// Which managed identity the IMDS-shaped endpoint answers for when no id is asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_managed_identity: Option<String>,
}

/// A directory tenant.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tenant {
    /// Tenant id (a GUID), as in `tid` and `https://login.microsoftonline.com/{tid}`.
    pub id: Uuid,
    /// Shown in AADSTS messages that name the tenant.
    #[serde(default = "default_tenant_name")]
    pub display_name: String,
    /// Verified domain names (`contoso.onmicrosoft.com`) that resolve to this tenant.
    #[serde(default)]
    pub domains: Vec<String>,
    /// App registrations, each with its service principal in this tenant.
    #[serde(default)]
    pub apps: Vec<App>,
    /// User-assigned managed identities.
    #[serde(default)]
    pub managed_identities: Vec<ManagedIdentity>,
}

fn default_tenant_name() -> String {
    "Default Directory".to_owned()
}

/// An app registration together with its service principal.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct App {
    /// Application (client) id: `client_id` on the wire, `appid` in tokens.
    pub app_id: Uuid,
    /// Object id of the service principal: `oid` and `sub` in tokens, the id Key Vault
    /// role assignments and access policies name.
    pub object_id: Uuid,
    /// Display name.
    #[serde(default)]
    pub display_name: String,
    /// Client secrets (password credentials).
    #[serde(default)]
    pub secrets: Vec<ClientSecret>,
    /// Certificate credentials (key credentials).
    #[serde(default)]
    pub certificates: Vec<ClientCertificate>,
    /// Federated identity credentials.
    #[serde(default)]
    pub federated_credentials: Vec<FederatedCredential>,
}

/// A client secret. Entra keeps only a hash; the fake keeps the value so state can be exported.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientSecret {
    /// The credential's key id.
    #[serde(default = "Uuid::new_v4")]
    pub key_id: Uuid,
    /// The secret value a client sends as `client_secret`.
    pub value: String,
    /// Not valid before this instant.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub start: Option<OffsetDateTime>,
    /// Expires at this instant (AADSTS7000222 afterwards).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub end: Option<OffsetDateTime>,
}

/// A certificate credential: the public certificate, PEM.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientCertificate {
    /// The credential's key id.
    #[serde(default = "Uuid::new_v4")]
    pub key_id: Uuid,
    /// The X.509 certificate, PEM.
    pub pem: String,
}

/// A user-assigned managed identity.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagedIdentity {
    /// Resource name, e.g. `eso-identity`.
    pub name: String,
    /// Client id (`azure.workload.identity/client-id`).
    pub client_id: Uuid,
    /// Principal (object) id, the id role assignments name.
    pub principal_id: Uuid,
    /// ARM resource id, carried in tokens as `xms_mirid`; derived from the name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// Federated identity credentials.
    #[serde(default)]
    pub federated_credentials: Vec<FederatedCredential>,
}

/// A federated identity credential: trust tokens from `issuer` about `subject`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FederatedCredential {
    /// Credential name.
    #[serde(default)]
    pub name: String,
    /// Issuer URL, compared exactly with the assertion's `iss`.
    pub issuer: String,
    /// Subject, e.g. `system:serviceaccount:azure-eso-test:eso-sa`.
    pub subject: String,
    /// Accepted audiences.
    #[serde(default = "default_audiences")]
    pub audiences: Vec<String>,
}

fn default_audiences() -> Vec<String> {
    vec![TOKEN_EXCHANGE_AUDIENCE.to_owned()]
}

/// An external issuer and where its signing keys come from.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrustedIssuer {
    /// The issuer URL (`iss`).
    pub issuer: String,
    /// Where to fetch its JWKS. Without it and without `keys`, the fake does what Entra does:
    /// reads `{issuer}/.well-known/openid-configuration` and follows `jwks_uri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Inline JWKS (`{"keys":[...]}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<serde_json::Value>,
}

/// Who a token is issued to: an app's service principal or a managed identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// Tenant id.
    pub tenant: Uuid,
    /// `appid`: the app id or the managed identity's client id.
    pub client_id: Uuid,
    /// `oid`: service principal object id or managed identity principal id.
    pub object_id: Uuid,
    /// `xms_mirid` for managed identities.
    pub resource_id: Option<String>,
}

impl Directory {
    /// Parses a directory from YAML (a superset of JSON).
    pub fn from_yaml(text: &str) -> Result<Self, serde_yaml_ng::Error> {
        serde_yaml_ng::from_str(text)
    }

    /// Finds a tenant by id or verified domain, case-insensitively.
    #[must_use]
    pub fn tenant(&self, id_or_domain: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.matches(id_or_domain))
    }

    /// Finds a tenant for change.
    pub fn tenant_mut(&mut self, id_or_domain: &str) -> Option<&mut Tenant> {
        self.tenants.iter_mut().find(|t| t.matches(id_or_domain))
    }

    /// Finds a managed identity by client id, principal id or resource id, in any tenant.
    #[must_use]
    pub fn managed_identity(&self, id: &str) -> Option<(&Tenant, &ManagedIdentity)> {
        self.tenants.iter().find_map(|tenant| {
            tenant
                .managed_identities
                .iter()
                .find(|mi| {
                    mi.client_id.to_string().eq_ignore_ascii_case(id)
                        || mi.principal_id.to_string().eq_ignore_ascii_case(id)
                        || mi.resource_id(tenant).eq_ignore_ascii_case(id)
                })
                .map(|mi| (tenant, mi))
        })
    }

    /// The trusted issuer entry for `iss`, if any.
    #[must_use]
    pub fn issuer(&self, iss: &str) -> Option<&TrustedIssuer> {
        self.issuers.iter().find(|i| i.issuer == iss)
    }
}

impl Tenant {
    fn matches(&self, id_or_domain: &str) -> bool {
        self.id.to_string().eq_ignore_ascii_case(id_or_domain)
            || self
                .domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(id_or_domain))
    }

    /// The app registered with `client_id`.
    #[must_use]
    pub fn app(&self, client_id: &str) -> Option<&App> {
        self.apps
            .iter()
            .find(|a| a.app_id.to_string().eq_ignore_ascii_case(client_id))
    }

    /// The managed identity with `client_id`.
    #[must_use]
    pub fn managed_identity_by_client_id(&self, client_id: &str) -> Option<&ManagedIdentity> {
        self.managed_identities
            .iter()
            .find(|m| m.client_id.to_string().eq_ignore_ascii_case(client_id))
    }
}

impl App {
    /// This app's service principal as a token subject.
    #[must_use]
    pub fn principal(&self, tenant: &Tenant) -> Principal {
        Principal {
            tenant: tenant.id,
            client_id: self.app_id,
            object_id: self.object_id,
            resource_id: None,
        }
    }
}

impl ManagedIdentity {
    /// The ARM resource id, given or derived from the name.
    #[must_use]
    pub fn resource_id(&self, tenant: &Tenant) -> String {
        self.resource_id.clone().unwrap_or_else(|| {
            format!(
                "/subscriptions/{}/resourcegroups/akv-e2e/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
                tenant.id, self.name
            )
        })
    }

    /// This identity as a token subject.
    #[must_use]
    pub fn principal(&self, tenant: &Tenant) -> Principal {
        Principal {
            tenant: tenant.id,
            client_id: self.client_id,
            object_id: self.principal_id,
            resource_id: Some(self.resource_id(tenant)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r"
tenants:
  - id: 72f988bf-86f1-41af-91ab-2d7cd011db47
    domains: [contoso.onmicrosoft.com]
    apps:
      - appId: 11111111-1111-1111-1111-111111111111
        objectId: 22222222-2222-2222-2222-222222222222
        displayName: eso-app
        secrets:
          - value: s3cret
            end: 2030-01-01T00:00:00Z
    managedIdentities:
      - name: eso-identity
        clientId: 33333333-3333-3333-3333-333333333333
        principalId: 44444444-4444-4444-4444-444444444444
        federatedCredentials:
          - issuer: https://127.0.0.1:6443
            subject: system:serviceaccount:azure-eso-test:eso-sa
";

    #[test]
    fn yaml_directory_resolves_tenants_apps_and_identities() {
        let dir = Directory::from_yaml(SAMPLE).expect("parses");
        let tenant = dir.tenant("CONTOSO.onmicrosoft.com").expect("by domain");
        assert!(dir.tenant("72F988BF-86F1-41AF-91AB-2D7CD011DB47").is_some());
        assert_eq!(
            tenant
                .app("11111111-1111-1111-1111-111111111111")
                .unwrap()
                .display_name,
            "eso-app"
        );
        let (_, mi) = dir
            .managed_identity("44444444-4444-4444-4444-444444444444")
            .expect("by principal id");
        assert_eq!(
            mi.federated_credentials[0].audiences,
            vec![TOKEN_EXCHANGE_AUDIENCE]
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = Directory::from_yaml("tenants: []\ntenant: x\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `tenant`"), "{err}");
    }
}
