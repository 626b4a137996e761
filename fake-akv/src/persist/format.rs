//! The snapshot: the whole state in its own serde types (not the wire types), and the
//! conversions between the stores and their saved form.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::{FORMAT, PersistError, folding_journal_path, journal_path};
use crate::certificates::store::{CertificateMaterial, IssuancePolicy, IssuanceRequest};
use crate::keys::store::KeyMaterial;
use crate::secrets::store::SecretValue;
use crate::store::{Deleted, Object, ObjectStore, Tags, Version};
use crate::vault::VaultSpec;

/// The whole emulator state.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Snapshot {
    /// The format number (1); a snapshot of another is refused.
    pub format: u32,
    /// The vault answering hosts that name none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_vault: Option<String>,
    /// The key backup blobs are sealed with, base64.
    pub backup_key: String,
    /// The last journal record included (records up to it are skipped on replay).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub journal_seq: u64,
    /// The vaults.
    pub vaults: Vec<VaultState>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference.
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One vault: configuration and objects.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultState {
    /// The configuration (without seed secrets: they are among `secrets`).
    pub spec: VaultSpec,
    /// Secrets, live and soft-deleted, in name order.
    #[serde(default)]
    pub secrets: Vec<ObjectState<SecretState>>,
    /// Keys, live and soft-deleted, in name order.
    #[serde(default)]
    pub keys: Vec<ObjectState<KeyState>>,
    /// Certificates, live and soft-deleted, in name order (their keys and secrets are among
    /// `keys` and `secrets`).
    #[serde(default)]
    pub certificates: Vec<ObjectState<CertificateState>>,
}

/// An object with all its versions, oldest first.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectState<P> {
    /// The name as first created.
    pub name: String,
    /// Set when the object is soft-deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Deletion>,
    /// The versions, oldest first (the last is the latest).
    pub versions: Vec<VersionState<P>>,
}

/// When an object was deleted and when it goes for good (Unix seconds).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deletion {
    /// `deletedDate`.
    pub deleted_date: i64,
    /// `scheduledPurgeDate`.
    pub scheduled_purge_date: i64,
}

/// One version: its payload and attributes (times in Unix seconds).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct VersionState<P> {
    /// 32 hex characters.
    pub version: String,
    /// What the version holds.
    #[serde(flatten)]
    pub payload: P,
    /// Tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    /// `attributes.enabled`.
    pub enabled: bool,
    /// `attributes.nbf`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
    /// `attributes.exp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<i64>,
    /// `attributes.created`.
    pub created: i64,
    /// `attributes.updated`.
    pub updated: i64,
}

/// A secret version's payload.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SecretState {
    /// The value.
    pub value: String,
    /// `contentType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// A key version's public material.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct KeyState {
    /// `kty`.
    pub kty: String,
    /// `key_ops`.
    #[serde(default)]
    pub key_ops: Vec<String>,
    /// RSA modulus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA exponent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// EC curve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// EC x.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC y.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

impl From<&SecretValue> for SecretState {
    fn from(v: &SecretValue) -> Self {
        Self {
            value: v.value.clone(),
            content_type: v.content_type.clone(),
        }
    }
}

impl From<SecretState> for SecretValue {
    fn from(v: SecretState) -> Self {
        Self {
            value: v.value,
            content_type: v.content_type,
        }
    }
}

impl From<&KeyMaterial> for KeyState {
    fn from(k: &KeyMaterial) -> Self {
        Self {
            kty: k.kty.clone(),
            key_ops: k.key_ops.clone(),
            n: k.n.clone(),
            e: k.e.clone(),
            crv: k.crv.clone(),
            x: k.x.clone(),
            y: k.y.clone(),
        }
    }
}

impl From<KeyState> for KeyMaterial {
    fn from(k: KeyState) -> Self {
        Self {
            kty: k.kty,
            key_ops: k.key_ops,
            n: k.n,
            e: k.e,
            crv: k.crv,
            x: k.x,
            y: k.y,
        }
    }
}

/// A certificate version: the DER certificate, its policy and the operation that created it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CertificateState {
    /// The DER certificate, base64.
    #[serde(with = "base64_bytes")]
    pub cer: Vec<u8>,
    /// The policy.
    pub policy: PolicyState,
    /// The create operation's request id; absent for imports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The create operation's CSR, base64 DER.
    #[serde(default, with = "base64_bytes")]
    pub csr: Vec<u8>,
}

/// A certificate policy.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[allow(clippy::struct_excessive_bools)] // Mirrors the policy's flags one for one.
pub struct PolicyState {
    /// Subject name.
    pub subject: String,
    /// SAN DNS names.
    #[serde(default)]
    pub dns_names: Vec<String>,
    /// SAN emails.
    #[serde(default)]
    pub emails: Vec<String>,
    /// SAN UPNs.
    #[serde(default)]
    pub upns: Vec<String>,
    /// EKU OIDs.
    #[serde(default)]
    pub ekus: Vec<String>,
    /// Key usages.
    #[serde(default)]
    pub key_usage: Vec<String>,
    /// Validity in months.
    pub validity_months: u32,
    /// Key type.
    pub kty: String,
    /// RSA size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_size: Option<u32>,
    /// EC curve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// Exportable private key.
    pub exportable: bool,
    /// Reuse key on renewal.
    pub reuse_key: bool,
    /// Backing secret content type.
    pub content_type: String,
    /// Issuer name.
    pub issuer: String,
    /// Policy enabled.
    pub enabled: bool,
    /// Policy created.
    pub created: i64,
    /// Policy updated.
    pub updated: i64,
}

impl From<&CertificateMaterial> for CertificateState {
    fn from(c: &CertificateMaterial) -> Self {
        let p = &c.policy;
        Self {
            cer: c.cer.clone(),
            policy: PolicyState {
                subject: p.subject.clone(),
                dns_names: p.dns_names.clone(),
                emails: p.emails.clone(),
                upns: p.upns.clone(),
                ekus: p.ekus.clone(),
                key_usage: p.key_usage.clone(),
                validity_months: p.validity_months,
                kty: p.kty.clone(),
                key_size: p.key_size,
                crv: p.crv.clone(),
                exportable: p.exportable,
                reuse_key: p.reuse_key,
                content_type: p.content_type.clone(),
                issuer: p.issuer.clone(),
                enabled: p.enabled,
                created: p.created,
                updated: p.updated,
            },
            request_id: c.request.as_ref().map(|r| r.request_id.clone()),
            csr: c
                .request
                .as_ref()
                .map(|r| r.csr.clone())
                .unwrap_or_default(),
        }
    }
}

impl From<CertificateState> for CertificateMaterial {
    fn from(c: CertificateState) -> Self {
        let p = c.policy;
        Self {
            cer: c.cer,
            policy: IssuancePolicy {
                subject: p.subject,
                dns_names: p.dns_names,
                emails: p.emails,
                upns: p.upns,
                ekus: p.ekus,
                key_usage: p.key_usage,
                validity_months: p.validity_months,
                kty: p.kty,
                key_size: p.key_size,
                crv: p.crv,
                exportable: p.exportable,
                reuse_key: p.reuse_key,
                content_type: p.content_type,
                issuer: p.issuer,
                enabled: p.enabled,
                created: p.created,
                updated: p.updated,
            },
            request: c.request_id.map(|request_id| IssuanceRequest {
                request_id,
                csr: c.csr,
            }),
        }
    }
}

/// Bytes as standard base64 in the state file.
mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

impl Snapshot {
    pub(crate) fn read(path: &Path) -> Result<Option<Self>, PersistError> {
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(PersistError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let snapshot: Self =
            serde_json::from_slice(&text).map_err(|source| PersistError::Parse {
                path: path.to_owned(),
                source,
            })?;
        if snapshot.format != FORMAT {
            return Err(PersistError::Format {
                found: snapshot.format,
            });
        }
        Ok(Some(snapshot))
    }

    /// Makes `path` hold exactly this state (an import): the journal segments beside it are
    /// removed first, so a crash midway leaves no journal that belongs to another state.
    pub fn save(&self, path: &Path) -> Result<(), PersistError> {
        for journal in [folding_journal_path(path), journal_path(path)] {
            fake_kit::durable::remove_if_present(&journal).map_err(|source| PersistError::Io {
                path: journal,
                source,
            })?;
        }
        self.write(path).map(drop)
    }

    /// Writes the snapshot to `path`, streamed (never the whole text in memory), and answers
    /// its size.
    pub(super) fn write(&self, path: &Path) -> Result<u64, PersistError> {
        fake_kit::durable::write_atomic_with(path, |out| {
            serde_json::to_writer_pretty(out, self).map_err(Into::into)
        })
        .map_err(|source| PersistError::Io {
            path: path.to_owned(),
            source,
        })
    }

    pub(crate) fn backup_key_bytes(&self) -> Result<[u8; 32], PersistError> {
        STANDARD
            .decode(&self.backup_key)
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or_else(|| PersistError::Invalid("backupKey is not 32 bytes of base64".into()))
    }

    pub(crate) fn encode_backup_key(bytes: [u8; 32]) -> String {
        STANDARD.encode(bytes)
    }
}

/// The objects of one store, live first then deleted, each group in name order.
pub(crate) fn capture<P, S>(store: &ObjectStore<P>) -> Vec<ObjectState<S>>
where
    P: Clone,
    S: for<'a> From<&'a P>,
{
    let live = store.list().map(|o| object_state(o, None));
    let deleted = store.list_deleted().map(|d| {
        object_state(
            &d.object,
            Some(Deletion {
                deleted_date: d.deleted_date,
                scheduled_purge_date: d.scheduled_purge_date,
            }),
        )
    });
    live.chain(deleted).collect()
}

pub(super) fn object_state<P, S>(object: &Object<P>, deleted: Option<Deletion>) -> ObjectState<S>
where
    S: for<'a> From<&'a P>,
{
    ObjectState {
        name: object.name.clone(),
        deleted,
        versions: object.versions().iter().map(version_state).collect(),
    }
}

pub(super) fn version_state<P, S>(v: &Version<P>) -> VersionState<S>
where
    S: for<'a> From<&'a P>,
{
    VersionState {
        version: v.version.clone(),
        payload: S::from(&v.payload),
        tags: v.tags.clone(),
        enabled: v.enabled,
        not_before: v.not_before,
        expires: v.expires,
        created: v.created,
        updated: v.updated,
    }
}

pub(super) fn version_of<P: From<S>, S>(v: VersionState<S>) -> Version<P> {
    Version {
        version: v.version,
        payload: P::from(v.payload),
        tags: v.tags,
        enabled: v.enabled,
        not_before: v.not_before,
        expires: v.expires,
        created: v.created,
        updated: v.updated,
    }
}

pub(super) fn object_of<P: From<S>, S>(state: ObjectState<S>) -> Result<Object<P>, PersistError> {
    let name = state.name;
    let versions = state.versions.into_iter().map(version_of).collect();
    Object::from_versions(name.clone(), versions)
        .ok_or_else(|| PersistError::Invalid(format!("object {name} has no versions")))
}

/// A store holding the captured objects.
pub(crate) fn rebuild<P, S>(objects: Vec<ObjectState<S>>) -> Result<ObjectStore<P>, PersistError>
where
    P: Clone + From<S>,
{
    let mut live = Vec::new();
    let mut deleted = Vec::new();
    for mut state in objects {
        match state.deleted.take() {
            None => live.push(object_of(state)?),
            Some(d) => deleted.push(Deleted {
                object: object_of(state)?,
                deleted_date: d.deleted_date,
                scheduled_purge_date: d.scheduled_purge_date,
            }),
        }
    }
    Ok(ObjectStore::from_parts(live, deleted))
}
