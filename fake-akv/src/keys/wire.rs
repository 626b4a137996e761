//! Key wire types, named as in the swagger (Azure/azure-rest-api-specs
//! `specification/keyvault/data-plane/Keys/stable/2025-07-01/keys.json`). Key Vault spells
//! key fields in snake case (`key_ops`, `key_size`). Serde only.

use serde::{Deserialize, Serialize};

use super::store::{DeletedKey, Key, KeyMaterial, KeyVersion};
use crate::store::Tags;
use crate::wire::{Attributes, AttributesIn, Recovery};

/// `JsonWebKey`, public parts only.
#[derive(Clone, Debug, Serialize)]
pub struct JsonWebKey {
    /// `https://{host}/keys/{name}/{version}`.
    pub kid: String,
    /// Key type.
    pub kty: String,
    /// Permitted operations.
    pub key_ops: Vec<String>,
    /// RSA modulus.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA exponent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// EC curve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// EC x.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC y.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

/// `KeyAttributes`: the common ones plus `exportable`.
#[derive(Clone, Debug, Serialize)]
pub struct KeyAttributes {
    /// Enabled, dates and recovery.
    #[serde(flatten)]
    pub common: Attributes,
    /// Whether the private key can be exported (release policy); never, here.
    pub exportable: bool,
}

impl KeyAttributes {
    fn from_domain(version: &KeyVersion, recovery: Recovery) -> Self {
        Self {
            common: Attributes::of(version, recovery),
            exportable: false,
        }
    }
}

/// `KeyBundle`.
#[derive(Clone, Debug, Serialize)]
pub struct KeyBundle {
    /// The public key.
    pub key: JsonWebKey,
    /// Attributes.
    pub attributes: KeyAttributes,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    /// `true` for a certificate's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
}

impl KeyBundle {
    /// The bundle of `version` of the key `name`.
    #[must_use]
    pub fn from_domain(name: &str, version: &KeyVersion, base: &str, recovery: Recovery) -> Self {
        let m = &version.payload;
        Self {
            key: JsonWebKey {
                kid: format!("{base}/keys/{name}/{}", version.version),
                kty: m.kty.clone(),
                key_ops: m.key_ops.clone(),
                n: m.n.clone(),
                e: m.e.clone(),
                crv: m.crv.clone(),
                x: m.x.clone(),
                y: m.y.clone(),
            },
            attributes: KeyAttributes::from_domain(version, recovery),
            tags: version.tags.clone(),
            managed: None,
        }
    }

    /// Marks the bundle as a certificate's key when `managed`.
    #[must_use]
    pub fn managed(mut self, managed: bool) -> Self {
        self.managed = managed.then_some(true);
        self
    }
}

/// `DeletedKeyBundle`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedKeyBundle {
    /// `https://{host}/deletedkeys/{name}`.
    pub recovery_id: String,
    /// Unix seconds.
    pub deleted_date: i64,
    /// Unix seconds.
    pub scheduled_purge_date: i64,
    /// The latest version.
    #[serde(flatten)]
    pub bundle: KeyBundle,
}

impl DeletedKeyBundle {
    /// The bundle of a soft-deleted key.
    #[must_use]
    pub fn from_domain(deleted: &DeletedKey, base: &str, recovery: Recovery) -> Self {
        Self {
            recovery_id: format!("{base}/deletedkeys/{}", deleted.object.name),
            deleted_date: deleted.deleted_date,
            scheduled_purge_date: deleted.scheduled_purge_date,
            bundle: KeyBundle::from_domain(
                &deleted.object.name,
                deleted.object.latest(),
                base,
                recovery,
            ),
        }
    }
}

/// `KeyItem`: base `kid` in `GetKeys`, versioned in `GetKeyVersions`.
#[derive(Clone, Debug, Serialize)]
pub struct KeyItem {
    /// Key id.
    pub kid: String,
    /// Attributes.
    pub attributes: KeyAttributes,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    /// `true` for a certificate's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
}

impl KeyItem {
    /// The list entry of a key (latest version, base id).
    #[must_use]
    pub fn latest(key: &Key, base: &str, recovery: Recovery) -> Self {
        let latest = key.latest();
        Self {
            kid: format!("{base}/keys/{}", key.name),
            attributes: KeyAttributes::from_domain(latest, recovery),
            tags: latest.tags.clone(),
            managed: None,
        }
    }

    /// The list entry of one version.
    #[must_use]
    pub fn version(name: &str, version: &KeyVersion, base: &str, recovery: Recovery) -> Self {
        Self {
            kid: format!("{base}/keys/{name}/{}", version.version),
            attributes: KeyAttributes::from_domain(version, recovery),
            tags: version.tags.clone(),
            managed: None,
        }
    }

    /// Marks the item as a certificate's key when `managed`.
    #[must_use]
    pub fn managed(mut self, managed: bool) -> Self {
        self.managed = managed.then_some(true);
        self
    }
}

/// `DeletedKeyItem`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedKeyItem {
    /// `https://{host}/deletedkeys/{name}`.
    pub recovery_id: String,
    /// Unix seconds.
    pub deleted_date: i64,
    /// Unix seconds.
    pub scheduled_purge_date: i64,
    /// The item.
    #[serde(flatten)]
    pub item: KeyItem,
}

impl DeletedKeyItem {
    /// The list entry of a soft-deleted key.
    #[must_use]
    pub fn from_domain(deleted: &DeletedKey, base: &str, recovery: Recovery) -> Self {
        Self {
            recovery_id: format!("{base}/deletedkeys/{}", deleted.object.name),
            deleted_date: deleted.deleted_date,
            scheduled_purge_date: deleted.scheduled_purge_date,
            item: KeyItem::latest(&deleted.object, base, recovery),
        }
    }
}

/// `KeyCreateParameters`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct KeyCreateParameters {
    /// Key type (required).
    pub kty: Option<String>,
    /// RSA size.
    pub key_size: Option<u32>,
    /// Permitted operations.
    pub key_ops: Option<Vec<String>>,
    /// Attributes.
    pub attributes: Option<AttributesIn>,
    /// Tags.
    pub tags: Option<Tags>,
    /// EC curve.
    pub crv: Option<String>,
}

/// A JSON Web Key as sent for import (private parts accepted and discarded).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct JsonWebKeyIn {
    /// Key type.
    pub kty: Option<String>,
    /// Permitted operations.
    pub key_ops: Option<Vec<String>>,
    /// RSA modulus.
    pub n: Option<String>,
    /// RSA exponent.
    pub e: Option<String>,
    /// EC curve.
    pub crv: Option<String>,
    /// EC x.
    pub x: Option<String>,
    /// EC y.
    pub y: Option<String>,
}

/// `KeyImportParameters`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct KeyImportParameters {
    /// Import into an HSM.
    #[serde(rename = "Hsm")]
    pub hsm: Option<bool>,
    /// The key (required).
    pub key: Option<JsonWebKeyIn>,
    /// Attributes.
    pub attributes: Option<AttributesIn>,
    /// Tags.
    pub tags: Option<Tags>,
}

impl JsonWebKeyIn {
    /// The public material, when the key has what its type needs.
    #[must_use]
    pub fn into_material(self, hsm: bool) -> Option<KeyMaterial> {
        let kty = self.kty?;
        let base = kty.trim_end_matches("-HSM").to_owned();
        let kty = if hsm && !kty.ends_with("-HSM") {
            format!("{kty}-HSM")
        } else {
            kty
        };
        let material = KeyMaterial {
            key_ops: self
                .key_ops
                .unwrap_or_else(|| super::store::default_ops(&kty)),
            n: self.n,
            e: self.e,
            crv: self.crv,
            x: self.x,
            y: self.y,
            kty,
        };
        let complete = match base.as_str() {
            "RSA" => material.n.is_some() && material.e.is_some(),
            "EC" => material.crv.is_some() && material.x.is_some() && material.y.is_some(),
            _ => false,
        };
        complete.then_some(material)
    }
}

/// `KeyUpdateParameters`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct KeyUpdateParameters {
    /// Permitted operations.
    pub key_ops: Option<Vec<String>>,
    /// Attributes.
    pub attributes: Option<AttributesIn>,
    /// Tags.
    pub tags: Option<Tags>,
}
