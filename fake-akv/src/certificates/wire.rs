//! Certificate wire types, named as in the swagger (Azure/azure-rest-api-specs
//! `specification/keyvault/data-plane/Certificates/stable/2025-07-01/certificates.json`). Policy
//! fields are snake case (`key_props`, `x509_props`) except `secret_props.contentType`, as on
//! the wire. Serde only.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::store::{
    Certificate, CertificateVersion, DeletedCertificate, IssuancePolicy, default_policy,
};
use crate::store::{Tags, VersionUpdate};
use crate::wire::{Attributes, Recovery};

/// `KeyProperties`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct KeyProperties {
    /// Whether the private key can be exported (in the backing secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exportable: Option<bool>,
    /// `RSA`, `EC` (and `-HSM`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kty: Option<String>,
    /// Key size in bits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_size: Option<u32>,
    /// Reuse the key on renewal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reuse_key: Option<bool>,
    /// EC curve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
}

/// `SecretProperties`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SecretProperties {
    /// `application/x-pkcs12` or `application/x-pem-file`.
    #[serde(rename = "contentType", skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// `SubjectAlternativeNames`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SubjectAlternativeNames {
    /// Email addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<String>>,
    /// DNS names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_names: Option<Vec<String>>,
    /// User principal names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upns: Option<Vec<String>>,
}

/// `BasicConstraints`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BasicConstraints {
    /// Whether the certificate is a CA.
    pub ca: bool,
}

/// `X509CertificateProperties`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct X509CertificateProperties {
    /// Subject name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// SANs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sans: Option<SubjectAlternativeNames>,
    /// Extended key usages (OIDs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ekus: Option<Vec<String>>,
    /// Key usages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_usage: Option<Vec<String>>,
    /// Validity in months.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity_months: Option<u32>,
    /// Basic constraints (sent, never read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic_constraints: Option<BasicConstraints>,
}

/// `IssuerParameters`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct IssuerParameters {
    /// `Self`, `Unknown` or an issuer object's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Certificate type, for issuers that take one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cty: Option<String>,
}

/// `Trigger` of a lifetime action.
#[derive(Clone, Debug, Serialize)]
pub struct Trigger {
    /// Percentage of the lifetime.
    pub lifetime_percentage: u32,
}

/// `Action` of a lifetime action.
#[derive(Clone, Debug, Serialize)]
pub struct Action {
    /// `AutoRenew` or `EmailContacts`.
    pub action_type: &'static str,
}

/// `LifetimeAction`.
#[derive(Clone, Debug, Serialize)]
pub struct LifetimeAction {
    /// When.
    pub trigger: Trigger,
    /// What.
    pub action: Action,
}

/// The policy's `attributes`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PolicyAttributes {
    /// Enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Created (read-only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    /// Updated (read-only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<i64>,
}

/// `CertificatePolicy` as answered.
#[derive(Clone, Debug, Serialize)]
pub struct CertificatePolicy {
    /// `https://{host}/certificates/{name}/policy`.
    pub id: String,
    /// Key properties.
    pub key_props: KeyProperties,
    /// Secret properties.
    pub secret_props: SecretProperties,
    /// X.509 properties.
    pub x509_props: X509CertificateProperties,
    /// Lifetime actions.
    pub lifetime_actions: Vec<LifetimeAction>,
    /// Issuer.
    pub issuer: IssuerParameters,
    /// Attributes.
    pub attributes: PolicyAttributes,
}

impl CertificatePolicy {
    /// The wire policy of certificate `name`. `lifetime_actions` are Key Vault's defaults
    /// (AutoRenew at 80% for `Self`, EmailContacts at 80% otherwise): azure-sdk-for-js
    /// `sdk/keyvault/keyvault-certificates/recordings/node/`, `recording_can_create_a_certificate.js`
    /// and the `canimportacertificatefromacertificatesbase64secretvalue` recordings.
    #[must_use]
    pub fn from_domain(name: &str, policy: &IssuancePolicy, base: &str) -> Self {
        let list = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        let key_size = match policy.crv.as_deref() {
            Some("P-256") => Some(256),
            Some("P-384") => Some(384),
            Some("P-521") => Some(521),
            _ => policy.key_size,
        };
        Self {
            id: format!("{base}/certificates/{name}/policy"),
            key_props: KeyProperties {
                exportable: Some(policy.exportable),
                kty: Some(policy.kty.clone()),
                key_size,
                reuse_key: Some(policy.reuse_key),
                crv: policy.crv.clone(),
            },
            secret_props: SecretProperties {
                content_type: Some(policy.content_type.clone()),
            },
            x509_props: X509CertificateProperties {
                subject: Some(policy.subject.clone()),
                // A created certificate's policy always has `sans` (`{}` when empty); an
                // imported one's only when the certificate has SANs (the recordings cited
                // above).
                sans: (policy.issuer == "Self"
                    || !(policy.emails.is_empty()
                        && policy.dns_names.is_empty()
                        && policy.upns.is_empty()))
                .then(|| SubjectAlternativeNames {
                    emails: list(&policy.emails),
                    dns_names: list(&policy.dns_names),
                    upns: list(&policy.upns),
                }),
                ekus: list(&policy.ekus),
                key_usage: list(&policy.key_usage),
                validity_months: Some(policy.validity_months),
                basic_constraints: Some(BasicConstraints { ca: false }),
            },
            lifetime_actions: vec![LifetimeAction {
                trigger: Trigger {
                    lifetime_percentage: 80,
                },
                action: Action {
                    action_type: if policy.issuer == "Self" {
                        "AutoRenew"
                    } else {
                        "EmailContacts"
                    },
                },
            }],
            issuer: IssuerParameters {
                name: Some(policy.issuer.clone()),
                cty: None,
            },
            attributes: PolicyAttributes {
                enabled: Some(policy.enabled),
                created: Some(policy.created),
                updated: Some(policy.updated),
            },
        }
    }
}

/// `CertificatePolicy` as a client sends it: every field optional.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CertificatePolicyIn {
    /// Key properties.
    pub key_props: Option<KeyProperties>,
    /// Secret properties.
    pub secret_props: Option<SecretProperties>,
    /// X.509 properties.
    pub x509_props: Option<X509CertificateProperties>,
    /// Issuer.
    pub issuer: Option<IssuerParameters>,
    /// Attributes.
    pub attributes: Option<PolicyAttributes>,
}

impl CertificatePolicyIn {
    /// `base` with every field this request sets replaced.
    #[must_use]
    pub fn apply(self, mut base: IssuancePolicy) -> IssuancePolicy {
        if let Some(k) = self.key_props {
            if let Some(kty) = k.kty {
                if kty.starts_with("EC") && base.crv.is_none() {
                    base.crv = Some("P-256".to_owned());
                    base.key_size = None;
                }
                base.kty = kty;
            }
            if k.key_size.is_some() && !base.kty.starts_with("EC") {
                base.key_size = k.key_size;
            }
            if let Some(crv) = k.crv {
                base.crv = Some(crv);
            }
            base.exportable = k.exportable.unwrap_or(base.exportable);
            base.reuse_key = k.reuse_key.unwrap_or(base.reuse_key);
        }
        if let Some(ct) = self.secret_props.and_then(|s| s.content_type) {
            base.content_type = ct;
        }
        if let Some(x) = self.x509_props {
            if let Some(subject) = x.subject {
                base.subject = subject;
            }
            if let Some(sans) = x.sans {
                base.dns_names = sans.dns_names.unwrap_or_default();
                base.emails = sans.emails.unwrap_or_default();
                base.upns = sans.upns.unwrap_or_default();
            }
            if let Some(ekus) = x.ekus {
                base.ekus = ekus;
            }
            if let Some(usage) = x.key_usage {
                base.key_usage = usage;
            }
            base.validity_months = x.validity_months.unwrap_or(base.validity_months);
        }
        if let Some(name) = self.issuer.and_then(|i| i.name) {
            base.issuer = name;
        }
        if let Some(enabled) = self.attributes.and_then(|a| a.enabled) {
            base.enabled = enabled;
        }
        base
    }

    /// The policy of a create request: Key Vault's defaults overlaid with the request's.
    #[must_use]
    pub fn into_domain(self, now: i64) -> IssuancePolicy {
        let mut policy = self.apply(default_policy());
        policy.created = now;
        policy.updated = now;
        policy
    }
}

/// `CertificateBundle`. `policy` is sent by get-latest, create's follow-up get, import,
/// delete and recover; a versioned get omits it.
#[derive(Clone, Debug, Serialize)]
pub struct CertificateBundle {
    /// `https://{host}/certificates/{name}/{version}`.
    pub id: String,
    /// The managed key: `https://{host}/keys/{name}/{version}`.
    pub kid: String,
    /// The managed secret: `https://{host}/secrets/{name}/{version}`.
    pub sid: String,
    /// SHA-1 thumbprint, base64url.
    pub x5t: String,
    /// The DER certificate, base64.
    pub cer: String,
    /// Attributes.
    pub attributes: Attributes,
    /// The policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<CertificatePolicy>,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
}

impl CertificateBundle {
    /// The bundle of `version` of certificate `name`, with the policy when `with_policy`.
    #[must_use]
    pub fn from_domain(
        name: &str,
        version: &CertificateVersion,
        base: &str,
        recovery: Recovery,
        with_policy: bool,
    ) -> Self {
        let path = |kind: &str| format!("{base}/{kind}/{name}/{}", version.version);
        Self {
            id: path("certificates"),
            kid: path("keys"),
            sid: path("secrets"),
            x5t: version.payload.x5t(),
            cer: STANDARD.encode(&version.payload.cer),
            attributes: Attributes::of(version, recovery),
            policy: with_policy
                .then(|| CertificatePolicy::from_domain(name, &version.payload.policy, base)),
            tags: version.tags.clone(),
        }
    }
}

/// `DeletedCertificateBundle`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedCertificateBundle {
    /// `https://{host}/deletedcertificates/{name}`.
    pub recovery_id: String,
    /// Unix seconds.
    pub deleted_date: i64,
    /// Unix seconds.
    pub scheduled_purge_date: i64,
    /// The latest version, with its policy.
    #[serde(flatten)]
    pub bundle: CertificateBundle,
}

impl DeletedCertificateBundle {
    /// The bundle of a soft-deleted certificate.
    #[must_use]
    pub fn from_domain(deleted: &DeletedCertificate, base: &str, recovery: Recovery) -> Self {
        Self {
            recovery_id: format!("{base}/deletedcertificates/{}", deleted.object.name),
            deleted_date: deleted.deleted_date,
            scheduled_purge_date: deleted.scheduled_purge_date,
            bundle: CertificateBundle::from_domain(
                &deleted.object.name,
                deleted.object.latest(),
                base,
                recovery,
                true,
            ),
        }
    }
}

/// `CertificateItem`: base id in `GetCertificates`, versioned in `GetCertificateVersions`.
#[derive(Clone, Debug, Serialize)]
pub struct CertificateItem {
    /// Certificate id.
    pub id: String,
    /// SHA-1 thumbprint, base64url.
    pub x5t: String,
    /// Attributes.
    pub attributes: Attributes,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
}

impl CertificateItem {
    /// The list entry of a certificate (latest version, base id).
    #[must_use]
    pub fn latest(cert: &Certificate, base: &str, recovery: Recovery) -> Self {
        let latest = cert.latest();
        Self {
            id: format!("{base}/certificates/{}", cert.name),
            ..Self::version(&cert.name, latest, base, recovery)
        }
    }

    /// The list entry of one version.
    #[must_use]
    pub fn version(
        name: &str,
        version: &CertificateVersion,
        base: &str,
        recovery: Recovery,
    ) -> Self {
        Self {
            id: format!("{base}/certificates/{name}/{}", version.version),
            x5t: version.payload.x5t(),
            attributes: Attributes::of(version, recovery),
            tags: version.tags.clone(),
        }
    }
}

/// `DeletedCertificateItem`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedCertificateItem {
    /// `https://{host}/deletedcertificates/{name}`.
    pub recovery_id: String,
    /// Unix seconds.
    pub deleted_date: i64,
    /// Unix seconds.
    pub scheduled_purge_date: i64,
    /// The item.
    #[serde(flatten)]
    pub item: CertificateItem,
}

impl DeletedCertificateItem {
    /// The list entry of a soft-deleted certificate.
    #[must_use]
    pub fn from_domain(deleted: &DeletedCertificate, base: &str, recovery: Recovery) -> Self {
        Self {
            recovery_id: format!("{base}/deletedcertificates/{}", deleted.object.name),
            deleted_date: deleted.deleted_date,
            scheduled_purge_date: deleted.scheduled_purge_date,
            item: CertificateItem::latest(&deleted.object, base, recovery),
        }
    }
}

/// `CertificateOperation`. Shape from the JS recording
/// `certificates_client__create_read_update_and_delete/recording_can_create_a_certificate.js`
/// (202 answer and `/pending` polls); `target` once `completed`.
#[derive(Clone, Debug, Serialize)]
pub struct CertificateOperation {
    /// `https://{host}/certificates/{name}/pending`.
    pub id: String,
    /// Issuer.
    pub issuer: IssuerParameters,
    /// The CSR, base64 DER.
    pub csr: String,
    /// Never requested here.
    pub cancellation_requested: bool,
    /// `inProgress` or `completed`.
    pub status: &'static str,
    /// Set while in progress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_details: Option<&'static str>,
    /// The certificate, once completed: `https://{host}/certificates/{name}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// 32 hex characters.
    pub request_id: String,
}

/// The attributes a client may send.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CertificateAttributesIn {
    /// Enabled.
    pub enabled: Option<bool>,
}

/// `CertificateCreateParameters`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CertificateCreateParameters {
    /// The policy.
    pub policy: Option<CertificatePolicyIn>,
    /// Attributes.
    pub attributes: Option<CertificateAttributesIn>,
    /// Tags.
    pub tags: Option<Tags>,
}

/// `CertificateImportParameters`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CertificateImportParameters {
    /// Base64 PFX, or PEM text (required).
    pub value: Option<String>,
    /// The PFX password.
    pub pwd: Option<String>,
    /// The policy.
    pub policy: Option<CertificatePolicyIn>,
    /// Attributes.
    pub attributes: Option<CertificateAttributesIn>,
    /// Tags.
    pub tags: Option<Tags>,
}

/// `CertificateUpdateParameters`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CertificateUpdateParameters {
    /// A new policy for the certificate.
    pub policy: Option<CertificatePolicyIn>,
    /// Attributes.
    pub attributes: Option<CertificateAttributesIn>,
    /// Tags.
    pub tags: Option<Tags>,
}

impl CertificateAttributesIn {
    /// The domain update of these attributes plus `tags`.
    #[must_use]
    pub fn into_update(self, tags: Option<Tags>) -> VersionUpdate {
        VersionUpdate {
            tags,
            enabled: self.enabled,
            not_before: None,
            expires: None,
        }
    }
}
