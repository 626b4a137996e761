//! Durable vault state: the state-file format, and the persistence that makes every
//! acknowledged write survive `kill -9`.
//!
//! # Format
//!
//! A [`Snapshot`] is the whole emulator state as one versioned JSON document of its own serde
//! types (not the wire types): every vault's configuration, its secrets, keys and certificates with all
//! versions (ids, timestamps, tags, attributes), soft-deleted objects with their deletion and
//! purge dates, the default vault, and the backup-blob key (so backups taken before a restart
//! still restore after it).
//!
//! # Durability
//!
//! With [`Settings::state_file`](crate::Settings::state_file) set, the [`durable_writes`]
//! middleware holds back the response of every successful mutating request (data plane and
//! `/_emulator`) until a snapshot taken *after* that request's change is on disk, written with
//! [`fake_kit::durable::write_atomic`] (temp file, fsync, rename, fsync of the folder). A crash
//! at any moment leaves the previous or the next snapshot, and every acknowledged write is in
//! whichever it is.
//!
//! Concurrent writers share snapshots (group commit): each write takes a ticket after its
//! change; the writer that gets the persistence lock reads the highest ticket issued, captures
//! the state and writes it, which covers every ticket up to that number, so writers whose
//! ticket is already covered return without writing.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::certificates::store::{CertificateMaterial, IssuancePolicy, IssuanceRequest};
use crate::error::AkvError;
use crate::keys::store::KeyMaterial;
use crate::secrets::store::SecretValue;
use crate::state::AppState;
use crate::store::{Deleted, Object, ObjectStore, Tags, Version};
use crate::vault::VaultSpec;

/// The format number this build writes and reads.
pub const FORMAT: u32 = 1;

/// Why the state file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The state file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a snapshot.
    #[error("{path}: not a fake-akv state file: {source}")]
    Parse {
        /// The state file.
        path: PathBuf,
        /// Why, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The file was written by another format version.
    #[error("state format {found} is not supported (this build reads format {FORMAT})")]
    Format {
        /// The version in the file.
        found: u32,
    },
    /// The snapshot holds something the emulator refuses (an invalid vault, a bad key).
    #[error("invalid state: {0}")]
    Invalid(String),
}

/// The whole emulator state.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Snapshot {
    /// [`FORMAT`].
    pub format: u32,
    /// The vault answering hosts that name none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_vault: Option<String>,
    /// The key backup blobs are sealed with, base64.
    pub backup_key: String,
    /// The vaults.
    pub vaults: Vec<VaultState>,
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
    /// Reads a state file; `None` when there is none yet.
    pub fn load(path: &Path) -> Result<Option<Self>, PersistError> {
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

    /// Writes the snapshot crash-safely.
    pub fn save(&self, path: &Path) -> Result<(), PersistError> {
        let text = serde_json::to_vec_pretty(self).expect("a snapshot serialises");
        fake_kit::durable::write_atomic(path, &text).map_err(|source| PersistError::Io {
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

fn object_state<P, S>(object: &Object<P>, deleted: Option<Deletion>) -> ObjectState<S>
where
    S: for<'a> From<&'a P>,
{
    ObjectState {
        name: object.name.clone(),
        deleted,
        versions: object
            .versions()
            .iter()
            .map(|v| VersionState {
                version: v.version.clone(),
                payload: S::from(&v.payload),
                tags: v.tags.clone(),
                enabled: v.enabled,
                not_before: v.not_before,
                expires: v.expires,
                created: v.created,
                updated: v.updated,
            })
            .collect(),
    }
}

/// A store holding the captured objects.
pub(crate) fn rebuild<P, S>(objects: Vec<ObjectState<S>>) -> Result<ObjectStore<P>, PersistError>
where
    P: Clone + From<S>,
{
    let mut live = Vec::new();
    let mut deleted = Vec::new();
    for state in objects {
        let name = state.name.clone();
        let versions = state
            .versions
            .into_iter()
            .map(|v| Version {
                version: v.version,
                payload: P::from(v.payload),
                tags: v.tags,
                enabled: v.enabled,
                not_before: v.not_before,
                expires: v.expires,
                created: v.created,
                updated: v.updated,
            })
            .collect();
        let object = Object::from_versions(state.name, versions)
            .ok_or_else(|| PersistError::Invalid(format!("object {name} has no versions")))?;
        match state.deleted {
            None => live.push(object),
            Some(d) => deleted.push(Deleted {
                object,
                deleted_date: d.deleted_date,
                scheduled_purge_date: d.scheduled_purge_date,
            }),
        }
    }
    Ok(ObjectStore::from_parts(live, deleted))
}

/// Where and how far the state has been persisted.
#[derive(Debug)]
pub(crate) struct Persister {
    path: PathBuf,
    /// Tickets issued: one per acknowledged-to-be write, taken after its change.
    issued: AtomicU64,
    /// The highest ticket a snapshot on disk covers; the lock serialises snapshot writes.
    persisted: Mutex<u64>,
}

impl Persister {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            issued: AtomicU64::new(0),
            persisted: Mutex::new(0),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A ticket for a change that has just been made.
    pub(crate) fn ticket(&self) -> u64 {
        self.issued.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Returns once a snapshot covering `ticket` is on disk, writing one if needed.
    pub(crate) fn persist_through(
        &self,
        ticket: u64,
        capture: impl FnOnce() -> Snapshot,
    ) -> Result<(), PersistError> {
        let mut persisted = self
            .persisted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *persisted >= ticket {
            return Ok(());
        }
        // Read before capturing: every ticket up to here belongs to a change already made.
        let through = self.issued.load(Ordering::SeqCst);
        capture().save(&self.path)?;
        *persisted = through;
        Ok(())
    }
}

/// Middleware: a successful mutating request is answered only once its change is on disk.
/// A failed write answers 500, since the change may not survive a crash.
pub async fn durable_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mutating = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let response = next.run(request).await;
    if !mutating || !state.is_durable() || !response.status().is_success() {
        return response;
    }
    let persisting = state.clone();
    match tokio::task::spawn_blocking(move || persisting.persist()).await {
        Ok(Ok(())) => response,
        Ok(Err(error)) => AkvError::Internal(format!("persisting state: {error}")).into_response(),
        Err(error) => AkvError::Internal(format!("persisting state: {error}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::store::{NewSecretVersion, SecretStore};
    use crate::store::Retention;

    fn value(v: &str) -> NewSecretVersion {
        NewSecretVersion {
            payload: SecretValue {
                value: v.to_owned(),
                content_type: Some("text/plain".to_owned()),
            },
            ..NewSecretVersion::default()
        }
    }

    #[test]
    fn capture_and_rebuild_keep_versions_and_deletions() {
        let mut store = SecretStore::default();
        store.set("Kept", value("a"), 10).unwrap();
        store.set("kept", value("b"), 20).unwrap();
        store.set("gone", value("c"), 30).unwrap();
        let retention = Retention {
            days: 7,
            purge_protection: false,
        };
        store.delete("gone", 40, retention).unwrap();
        let captured: Vec<ObjectState<SecretState>> = capture(&store);
        let text = serde_json::to_string(&captured).unwrap();
        let parsed: Vec<ObjectState<SecretState>> = serde_json::from_str(&text).unwrap();
        let rebuilt: SecretStore = rebuild(parsed).unwrap();
        assert_eq!(rebuilt.object("KEPT"), store.object("kept"));
        assert_eq!(rebuilt.deleted("gone"), store.deleted("gone"));
        assert_eq!(rebuilt.object("kept").unwrap().name, "Kept");
    }

    #[test]
    fn certificates_survive_capture_and_rebuild() {
        use crate::certificates::store::{
            CertificateMaterial, CertificateStore, IssuanceRequest, default_policy,
            issue_self_signed,
        };
        let policy = IssuancePolicy {
            subject: "CN=kept".to_owned(),
            ..default_policy()
        };
        let (issued, csr) = issue_self_signed(&policy, 100).unwrap();
        let mut store = CertificateStore::default();
        store
            .set(
                "kept",
                crate::store::NewVersion {
                    payload: CertificateMaterial {
                        cer: issued.chain[0].clone(),
                        policy,
                        request: Some(IssuanceRequest {
                            request_id: "r".repeat(32),
                            csr,
                        }),
                    },
                    tags: None,
                    enabled: None,
                    not_before: Some(issued.not_before),
                    expires: Some(issued.expires),
                },
                100,
            )
            .unwrap();
        let captured: Vec<ObjectState<CertificateState>> = capture(&store);
        let text = serde_json::to_string(&captured).unwrap();
        let parsed: Vec<ObjectState<CertificateState>> = serde_json::from_str(&text).unwrap();
        let rebuilt: CertificateStore = rebuild(parsed).unwrap();
        assert_eq!(rebuilt.object("kept"), store.object("kept"));
    }

    #[test]
    fn a_covered_ticket_writes_nothing_and_a_new_one_writes_once() {
        let dir = std::env::temp_dir().join(format!("fake-akv-persist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let persister = Persister::new(dir.join("state.json"));
        let snapshot = || Snapshot {
            format: FORMAT,
            default_vault: None,
            backup_key: Snapshot::encode_backup_key([7; 32]),
            vaults: vec![],
        };
        let first = persister.ticket();
        let second = persister.ticket();
        let mut captures = 0;
        persister
            .persist_through(first, || {
                captures += 1;
                snapshot()
            })
            .unwrap();
        // The snapshot taken for `first` was taken after `second`'s change: it covers both.
        persister
            .persist_through(second, || {
                captures += 1;
                snapshot()
            })
            .unwrap();
        assert_eq!(captures, 1);
        let third = persister.ticket();
        persister
            .persist_through(third, || {
                captures += 1;
                snapshot()
            })
            .unwrap();
        assert_eq!(captures, 2);
        let loaded = Snapshot::load(&dir.join("state.json")).unwrap().unwrap();
        assert_eq!(loaded.backup_key_bytes().unwrap(), [7; 32]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn another_format_is_refused() {
        let dir = std::env::temp_dir().join(format!("fake-akv-format-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        std::fs::write(&path, r#"{"format": 2, "backupKey": "", "vaults": []}"#).unwrap();
        assert!(matches!(
            Snapshot::load(&path),
            Err(PersistError::Format { found: 2 })
        ));
        assert!(Snapshot::load(&dir.join("absent.json")).unwrap().is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
