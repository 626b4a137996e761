//! The scenario file format: serde + schemars types, exactly as written in YAML.
//!
//! [`crate::scenario::Scenario`] is the validated form. The Azure world is declared with names
//! (apps, identities, vaults) instead of GUIDs: the loader generates ids and resolves the
//! names, then builds the fakes' own shapes ([`fake_aad::Directory`], [`fake_akv::VaultSpec`]).
//! Those shapes are not reused verbatim because they require GUIDs and derive no `JsonSchema`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::duration::DurationSpec;
use crate::step::StepEntry;

/// One scenario file.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "harness scenario")]
pub struct ScenarioSpec {
    /// Scenario name, unique in a run: the JUnit test suite and the `--filter` target.
    pub name: String,
    /// What the scenario shows, for people reading reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Free-form tags; `--filter tag:NAME` selects on them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The Azure world the scenario needs. Without it: one tenant, one app `eso-app` with a
    /// client secret, one managed identity `eso-identity`, and the RBAC vault `my-key-vault`
    /// where `eso-app` is Key Vault Secrets Officer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<AzureSpec>,
    /// Operators the scenario needs in the cluster.
    #[serde(default)]
    pub components: ComponentsSpec,
    /// Variables, usable as `${name}` in any string of a step (`$${` writes a literal `${`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
    /// Default timeout of every step (`500ms`, `30s`, `2m`, `1h`); 30s when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationSpec>,
    /// The steps, in order. A failed step (without `continueOnError`) skips the rest.
    pub steps: Vec<StepEntry>,
    /// Runs of the same scenario with different variables. Each variant runs as its own
    /// scenario named `NAME [VARIANT]`, its `vars` laid over the scenario's; without
    /// variants the scenario runs once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<VariantSpec>,
}

/// One variant: a name (the suffix of the scenario's name) and the variables it sets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VariantSpec {
    /// Suffix of the scenario's name: `NAME [VARIANT]`.
    pub name: String,
    /// Variables of this variant; they override the scenario's `vars`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
}

/// The Azure side: one tenant with apps and managed identities, and vaults.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AzureSpec {
    /// The tenant (one per scenario); its id is generated and bound to `${tenantId}`.
    #[serde(default)]
    pub tenant: TenantSpec,
    /// App registrations (service principals).
    #[serde(default)]
    pub apps: Vec<AppSpec>,
    /// User-assigned managed identities.
    #[serde(default)]
    pub managed_identities: Vec<IdentitySpec>,
    /// Key vaults. The first is the default: `${vaultUrl}` and steps without `vault`.
    #[serde(default)]
    pub vaults: Vec<VaultDecl>,
    /// The Azure cloud the world lives in, named as a SecretStore's `environmentType`: vault
    /// URLs (`${vaultUrl}`) carry its DNS suffix, e.g. `https://NAME.vault.usgovcloudapi.net`.
    #[serde(default)]
    pub cloud: CloudSpec,
}

/// An Azure cloud, spelled as ESO's `environmentType`. `GermanCloud` is absent: Azure Germany
/// closed on 2021-10-29.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CloudSpec {
    /// The global cloud (`*.vault.azure.net`).
    #[default]
    PublicCloud,
    /// Azure Government (`*.vault.usgovcloudapi.net`, `login.microsoftonline.us`).
    USGovernmentCloud,
    /// Azure operated by 21Vianet (`*.vault.azure.cn`, `login.chinacloudapi.cn`).
    ChinaCloud,
}

impl From<CloudSpec> for fake_kit::Cloud {
    fn from(spec: CloudSpec) -> Self {
        match spec {
            CloudSpec::PublicCloud => Self::Public,
            CloudSpec::USGovernmentCloud => Self::UsGovernment,
            CloudSpec::ChinaCloud => Self::China,
        }
    }
}

/// The scenario's tenant.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantSpec {
    /// Display name, shown in AADSTS messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Verified domains (`contoso.onmicrosoft.com`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
}

/// An app registration with its service principal. Its client id is bound to
/// `${app.NAME.clientId}`, its object id to `${app.NAME.objectId}`, and the value of its
/// first client secret to `${app.NAME.clientSecret}`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppSpec {
    /// Name, referenced by role assignments, access policies and steps.
    pub name: String,
    /// Client secrets; absent means one generated, non-expiring secret. `[]` means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<Vec<ClientSecretSpec>>,
    /// Federated identity credentials.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub federated_credentials: Vec<FederatedCredentialSpec>,
}

/// A client secret.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientSecretSpec {
    /// The value; generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Expires this long after the scenario starts (on the fakes' clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<DurationSpec>,
}

/// A federated identity credential (same fields as Entra's).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FederatedCredentialSpec {
    /// Credential name.
    #[serde(default)]
    pub name: String,
    /// Issuer URL; `${clusterIssuer}` is the local plane's service-account issuer.
    pub issuer: String,
    /// Subject, e.g. `system:serviceaccount:${namespace}:eso-sa`.
    pub subject: String,
    /// Accepted audiences (default `api://AzureADTokenExchange`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
}

/// A user-assigned managed identity; client id bound to `${identity.NAME.clientId}`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentitySpec {
    /// Resource name, referenced by role assignments and access policies.
    pub name: String,
    /// Federated identity credentials (workload identity).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub federated_credentials: Vec<FederatedCredentialSpec>,
}

/// How a vault authorizes data-plane calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum AuthorizationSpec {
    /// Azure RBAC role assignments.
    #[default]
    Rbac,
    /// Vault access policies.
    AccessPolicies,
}

/// A key vault. Its URL is bound to `${vault.NAME.url}` (and `${vaultUrl}` for the first).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultDecl {
    /// Vault name (3-24 letters, digits and dashes): `https://NAME.vault.azure.net`.
    pub name: String,
    /// RBAC (default) or access policies.
    #[serde(default)]
    pub authorization: AuthorizationSpec,
    /// Role assignments (RBAC vaults).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role_assignments: Vec<RoleAssignmentSpec>,
    /// Access policies (access-policy vaults).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_policies: Vec<AccessPolicySpec>,
    /// Days a deleted secret stays recoverable (7..=90, default 90).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soft_delete_retention_days: Option<u32>,
    /// Refuse purges while deleted secrets are within retention.
    #[serde(default)]
    pub purge_protection: bool,
    /// Seconds a delete or recover takes to settle, as Key Vault's do asynchronously (default
    /// 0: at once). On the fakes' clock, so `advanceClock` moves through it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_delay_seconds: Option<u32>,
    /// Secrets present when the scenario starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SeedSecretSpec>,
    /// Key Vault's service limits: past them the vault answers 429 `Throttled`. `{}` gives
    /// Microsoft's figures (per 10 seconds: 4,000 transactions, 300 secret creates, ...);
    /// absent, the vault never throttles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_limits: Option<fake_akv::vault::ServiceLimits>,
}

/// `principal` holds `role` at `scope`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleAssignmentSpec {
    /// An app or managed identity name.
    pub principal: String,
    /// Built-in role name, e.g. `Key Vault Secrets User`.
    pub role: String,
    /// `/` (default) for the whole vault, or `/secrets/NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// An access policy entry.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessPolicySpec {
    /// An app or managed identity name.
    pub principal: String,
    /// Secret permissions (`get`, `list`, `set`, `delete`, `recover`, `backup`, `restore`,
    /// `purge`, or `all`).
    #[serde(default)]
    pub secrets: Vec<String>,
}

/// A secret created with the vault.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSecretSpec {
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
}

/// Operators to run in the cluster. Any Kubernetes step or component makes the scenario need
/// a cluster.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComponentsSpec {
    /// External Secrets Operator.
    #[serde(default)]
    pub eso: ComponentSpec,
    /// Stakater Reloader.
    #[serde(default)]
    pub reloader: ComponentSpec,
}

/// `true`/`false`, or options.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ComponentSpec {
    /// Install (or not) with defaults.
    Enabled(bool),
    /// Install with options.
    Options(ComponentOptions),
}

impl Default for ComponentSpec {
    fn default() -> Self {
        Self::Enabled(false)
    }
}

impl ComponentSpec {
    /// Whether the component is wanted.
    #[must_use]
    pub fn enabled(&self) -> bool {
        match self {
            Self::Enabled(on) => *on,
            Self::Options(_) => true,
        }
    }

    /// Whether the component is installed from its Helm chart.
    #[must_use]
    pub fn helm(&self) -> Option<&ComponentOptions> {
        match self {
            Self::Options(options) if options.install == Install::Helm => Some(options),
            _ => None,
        }
    }
}

/// How a component is installed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Install {
    /// A host process with the flags the scenario gives (`args`): the fast default.
    #[default]
    Process,
    /// Its upstream Helm chart, as pods on the real node, with the scenario's `values` and
    /// `valuesFile`; the scenario runs alone, and for ESO the plane's own ESO is stopped while
    /// it runs.
    Helm,
}

/// Component options.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComponentOptions {
    /// `process` (default) or `helm`.
    #[serde(default)]
    pub install: Install,
    /// Extra command-line flags, e.g. `--reload-strategy=annotations` (Reloader, `install:
    /// process`; the plane's ESO is shared and takes none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Chart values, over `valuesFile` (`install: helm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<std::collections::BTreeMap<String, serde_json::Value>>")]
    pub values: Option<serde_json::Value>,
    /// A values file, relative to the scenario file, handed to Helm unchanged
    /// (`install: helm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_file: Option<std::path::PathBuf>,
    /// The release's namespace (`install: helm`); `external-secrets` or `reloader`, as the
    /// seed articles install them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A Kubernetes object reference.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectRef {
    /// `apiVersion`, e.g. `v1` or `external-secrets.io/v1`.
    pub api_version: String,
    /// `kind`, e.g. `Secret`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// Namespace; the scenario's `${namespace}` when absent (ignored for cluster-scoped kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}
