//! Secret wire types, named as in the swagger (Azure/azure-rest-api-specs
//! `specification/keyvault/data-plane/Secrets/stable/2025-07-01/secrets.json`). Serde only.

use serde::{Deserialize, Serialize};

use super::store::{DeletedSecret, NewSecretVersion, Secret, SecretValue, SecretVersion};
use crate::store::{Tags, VersionUpdate};
use crate::wire::{Attributes, AttributesIn, Recovery};

/// `SecretBundle`. `value` is present on set and get, absent on update, recover and restore
/// (§2.5).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretBundle {
    /// The value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `https://{host}/secrets/{name}/{version}`.
    pub id: String,
    /// Content type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Attributes.
    pub attributes: Attributes,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    /// For a certificate's secret: the certificate's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// `true` for a certificate's secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
}

impl SecretBundle {
    /// The bundle for `version` of the secret `name`, with or without its value.
    #[must_use]
    pub fn from_domain(
        name: &str,
        version: &SecretVersion,
        base: &str,
        recovery: Recovery,
        with_value: bool,
    ) -> Self {
        Self {
            value: with_value.then(|| version.payload.value.clone()),
            id: format!("{base}/secrets/{name}/{}", version.version),
            content_type: version.payload.content_type.clone(),
            attributes: Attributes::of(version, recovery),
            tags: version.tags.clone(),
            kid: None,
            managed: None,
        }
    }

    /// Marks the bundle as a certificate's secret when `managed`: `managed: true` and the
    /// `kid` of the certificate's key (same name and version).
    #[must_use]
    pub fn managed(mut self, managed: bool) -> Self {
        if managed {
            self.kid = Some(self.id.replacen("/secrets/", "/keys/", 1));
            self.managed = Some(true);
        }
        self
    }
}

/// `DeletedSecretBundle`: recovery fields, then the latest version without its value.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedSecretBundle {
    /// `https://{host}/deletedsecrets/{name}`.
    pub recovery_id: String,
    /// Unix seconds.
    pub deleted_date: i64,
    /// Unix seconds.
    pub scheduled_purge_date: i64,
    /// The bundle of the latest version.
    #[serde(flatten)]
    pub bundle: SecretBundle,
}

impl DeletedSecretBundle {
    /// The bundle of a soft-deleted secret.
    #[must_use]
    pub fn from_domain(deleted: &DeletedSecret, base: &str, recovery: Recovery) -> Self {
        Self {
            recovery_id: format!("{base}/deletedsecrets/{}", deleted.object.name),
            deleted_date: deleted.deleted_date,
            scheduled_purge_date: deleted.scheduled_purge_date,
            bundle: SecretBundle::from_domain(
                &deleted.object.name,
                deleted.object.latest(),
                base,
                recovery,
                false,
            ),
        }
    }
}

/// `SecretItem`: list entries. `GetSecrets` items carry the base id, `GetSecretVersions` items
/// the versioned id (7.5 `GetSecrets-example.json`, `GetSecretVersions-example.json`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretItem {
    /// Base or versioned id.
    pub id: String,
    /// Attributes.
    pub attributes: Attributes,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    /// Content type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// `true` for a certificate's secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
}

impl SecretItem {
    /// The item for a secret in `GetSecrets` (latest version's attributes, base id).
    #[must_use]
    pub fn latest(secret: &Secret, base: &str, recovery: Recovery) -> Self {
        let latest = secret.latest();
        Self {
            id: format!("{base}/secrets/{}", secret.name),
            attributes: Attributes::of(latest, recovery),
            tags: latest.tags.clone(),
            content_type: latest.payload.content_type.clone(),
            managed: None,
        }
    }

    /// The item for one version in `GetSecretVersions`.
    #[must_use]
    pub fn version(name: &str, version: &SecretVersion, base: &str, recovery: Recovery) -> Self {
        Self {
            id: format!("{base}/secrets/{name}/{}", version.version),
            attributes: Attributes::of(version, recovery),
            tags: version.tags.clone(),
            content_type: version.payload.content_type.clone(),
            managed: None,
        }
    }

    /// Marks the item as a certificate's secret when `managed`.
    #[must_use]
    pub fn managed(mut self, managed: bool) -> Self {
        self.managed = managed.then_some(true);
        self
    }
}

/// `DeletedSecretItem`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedSecretItem {
    /// `https://{host}/deletedsecrets/{name}`.
    pub recovery_id: String,
    /// Unix seconds.
    pub deleted_date: i64,
    /// Unix seconds.
    pub scheduled_purge_date: i64,
    /// The item (base id).
    #[serde(flatten)]
    pub item: SecretItem,
}

impl DeletedSecretItem {
    /// The list entry of a soft-deleted secret.
    #[must_use]
    pub fn from_domain(deleted: &DeletedSecret, base: &str, recovery: Recovery) -> Self {
        Self {
            recovery_id: format!("{base}/deletedsecrets/{}", deleted.object.name),
            deleted_date: deleted.deleted_date,
            scheduled_purge_date: deleted.scheduled_purge_date,
            item: SecretItem::latest(&deleted.object, base, recovery),
        }
    }
}

/// `SecretSetParameters`. `value` is required by the spec; it is optional here so that its
/// absence gets a Key Vault body rather than a serde message.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretSetParameters {
    /// The value.
    pub value: Option<String>,
    /// Tags.
    pub tags: Option<Tags>,
    /// Content type.
    pub content_type: Option<String>,
    /// Attributes.
    pub attributes: Option<AttributesIn>,
}

impl SecretSetParameters {
    /// The domain request; `value` must have been checked.
    #[must_use]
    pub fn into_domain(self, value: String) -> NewSecretVersion {
        let attributes = self.attributes.unwrap_or_default();
        NewSecretVersion {
            payload: SecretValue {
                value,
                content_type: self.content_type,
            },
            tags: self.tags,
            enabled: attributes.enabled,
            not_before: attributes.nbf,
            expires: attributes.exp,
        }
    }
}

/// `SecretUpdateParameters`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretUpdateParameters {
    /// Content type.
    pub content_type: Option<String>,
    /// Attributes.
    pub attributes: Option<AttributesIn>,
    /// Tags.
    pub tags: Option<Tags>,
}

impl SecretUpdateParameters {
    /// The domain request, and the new content type if one was sent.
    #[must_use]
    pub fn into_domain(self) -> (VersionUpdate, Option<String>) {
        let attributes = self.attributes.unwrap_or_default();
        let update = VersionUpdate {
            tags: self.tags,
            enabled: attributes.enabled,
            not_before: attributes.nbf,
            expires: attributes.exp,
        };
        (update, self.content_type)
    }
}

/// `BackupSecretResult` (out) and `SecretRestoreParameters` (in): `{"value": base64url}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BackupBlob {
    /// The opaque blob.
    pub value: Option<String>,
}
