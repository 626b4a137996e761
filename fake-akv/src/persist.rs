//! Durable vault state: the state-file format, and the persistence that makes every
//! acknowledged write survive `kill -9`.
//!
//! # Format
//!
//! A [`Snapshot`] is the whole emulator state as one versioned JSON document of its own serde
//! types (not the wire types): every vault's configuration, its secrets, keys and
//! certificates with all versions (ids, timestamps, tags, attributes), soft-deleted objects
//! with their deletion and purge dates, the default vault, and the backup-blob key (so backups
//! taken before a restart still restore after it), and `journalSeq`, the last journal record
//! it includes. [`Snapshot::save`] (an import) removes the journal before writing the
//! snapshot. A vault's `deletionDelaySeconds` window is kept in neither: after a restart every
//! delete, recover and purge has settled.
//!
//! The journal, `<state file>.journal` beside the snapshot, is JSON Lines: one [`Record`]
//! per line, `{"seq":N,"vault":"<name>","<kind>":{"<change>":{...}}}`, where `<kind>` is
//! `secrets`, `keys` or `certificates` (a certificate's managed key and secret are journaled
//! as the `keys` and `secrets` changes they are) and `<change>` one of `version` (a version as
//! it now is, creating its object on first use), `deleted`, `recovered`, `purged` (also a
//! sweep at the purge date) or `restored` (a whole object from a backup). [`Snapshot::load`]
//! reads the snapshot and replays, in order, the records whose `seq` is above its
//! `journalSeq`; they must continue it without a gap.
//!
//! # Durability
//!
//! With [`Settings::state_file`](crate::Settings::state_file) set, the [`durable_writes`]
//! middleware holds back the response of every successful mutating data-plane request until
//! the journal records of its change are fsynced. Records are appended to an in-memory buffer
//! while the store lock of the change is held (so per object they are in the order the store
//! made them) and take a sequence number; a request's ticket is the highest number issued
//! after its change. Group commit: the writer that gets the file lock writes the whole buffer
//! and fsyncs once, which covers every ticket issued so far, so writers whose ticket is already
//! covered return without writing. A write costs O(size of its change), not O(state).
//!
//! Compaction writes a fresh snapshot and empties the journal: at start, after every
//! `/_emulator` write (vault configuration is not journaled), at a clean shutdown, and when
//! the journal has grown past the size of the last snapshot (at least [`COMPACT_AT_LEAST`]
//! bytes), which keeps replay short and compaction amortised O(1) per write. It holds the file
//! lock and every store lock while it captures the state and drops the buffered records (they
//! are all in the capture), then writes the snapshot with
//! [`fake_kit::durable::write_atomic`] (temp file, fsync, rename, fsync of the folder), and
//! only then truncates the journal.
//!
//! Crash safety: before the rename the old snapshot and the whole journal are intact; after it
//! the new snapshot includes every record still in the journal, which replay skips by `seq`.
//! A crash mid-append leaves a torn last line (no newline, or not valid JSON), which was never
//! acknowledged and is ignored; any other unreadable line is an error, not silently dropped.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use fake_kit::Clock;

use crate::certificates::store::{CertificateMaterial, IssuancePolicy, IssuanceRequest};
use crate::error::AkvError;
use crate::keys::store::KeyMaterial;
use crate::secrets::store::SecretValue;
use crate::state::{AppState, Settings};
use crate::store::{Change, Deleted, Object, ObjectStore, Tags, Version};
use crate::vault::VaultSpec;

/// The format number this build writes and reads.
pub const FORMAT: u32 = 1;

/// The journal never triggers a compaction below this size: tiny states would otherwise be
/// rewritten every few writes.
pub const COMPACT_AT_LEAST: u64 = 4 << 20;

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
    /// A journal line other than the last is not a record.
    #[error("{path}: line {line} is not a journal record: {source}")]
    Journal {
        /// The journal.
        path: PathBuf,
        /// 1-based.
        line: usize,
        /// Why.
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
    /// Reads a state file and replays its journal; `None` when there is no state file yet.
    /// Works beside a running fake (`harness export`): a compaction between reading the
    /// snapshot and the journal shows as a gap in `seq`, and the pair is read again.
    pub fn load(path: &Path) -> Result<Option<Self>, PersistError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let Some(snapshot) = Self::read(path)? else {
                return Ok(None);
            };
            let mut records = read_journal(&journal_path(path))?;
            records.retain(|r| r.seq > snapshot.journal_seq);
            let continuous = records
                .iter()
                .zip(snapshot.journal_seq + 1..)
                .all(|(record, seq)| record.seq == seq);
            if !continuous {
                if attempts < 3 {
                    continue;
                }
                return Err(PersistError::Invalid(format!(
                    "{}: the journal does not continue the snapshot (journalSeq {})",
                    journal_path(path).display(),
                    snapshot.journal_seq
                )));
            }
            let Some(last) = records.last().map(|r| r.seq) else {
                return Ok(Some(snapshot));
            };
            let state = AppState::from_snapshot(snapshot, Clock::system(), Settings::default())?;
            state.replay(records)?;
            return Ok(Some(Self {
                journal_seq: last,
                ..state.snapshot()
            }));
        }
    }

    fn read(path: &Path) -> Result<Option<Self>, PersistError> {
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

    /// Makes `path` hold exactly this state (an import): the journal beside it is removed
    /// first, so a crash midway leaves no journal that belongs to another state.
    pub fn save(&self, path: &Path) -> Result<(), PersistError> {
        let journal = journal_path(path);
        match std::fs::remove_file(&journal) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(PersistError::Io {
                    path: journal,
                    source,
                });
            }
        }
        self.write(path).map(drop)
    }

    fn write(&self, path: &Path) -> Result<u64, PersistError> {
        let text = serde_json::to_vec_pretty(self).expect("a snapshot serialises");
        fake_kit::durable::write_atomic(path, &text).map_err(|source| PersistError::Io {
            path: path.to_owned(),
            source,
        })?;
        Ok(text.len() as u64)
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
        versions: object.versions().iter().map(version_state).collect(),
    }
}

fn version_state<P, S>(v: &Version<P>) -> VersionState<S>
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

fn version_of<P: From<S>, S>(v: VersionState<S>) -> Version<P> {
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

fn object_of<P: From<S>, S>(state: ObjectState<S>) -> Result<Object<P>, PersistError> {
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

/// One journal line: a change to one object of one vault.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// Position in the journal's history; above the snapshot's `journalSeq`.
    pub seq: u64,
    /// The vault's name, lower case.
    pub vault: String,
    /// The change, tagged with its object kind.
    #[serde(flatten)]
    pub change: KindChange,
}

/// A change, by object kind.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum KindChange {
    /// To a secret.
    Secrets(ChangeState<SecretState>),
    /// To a key.
    Keys(ChangeState<KeyState>),
    /// To a certificate.
    Certificates(ChangeState<CertificateState>),
}

/// [`Change`] in the journal's own serde types.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ChangeState<S> {
    /// A version as it now is; creates the object `name` on first use.
    Version {
        /// The object's name as first created.
        name: String,
        /// The version.
        state: VersionState<S>,
    },
    /// Soft-deleted.
    Deleted {
        /// The name.
        name: String,
        /// `deletedDate`.
        deleted_date: i64,
        /// `scheduledPurgeDate`.
        scheduled_purge_date: i64,
    },
    /// Live again.
    Recovered {
        /// The name.
        name: String,
    },
    /// Gone for good.
    Purged {
        /// The name.
        name: String,
    },
    /// Restored from a backup.
    Restored {
        /// The object.
        object: ObjectState<S>,
    },
}

impl<S> ChangeState<S> {
    fn from_domain<P>(change: &Change<P>) -> Self
    where
        S: for<'a> From<&'a P>,
    {
        match change {
            Change::Version { name, version } => Self::Version {
                name: name.clone(),
                state: version_state(version),
            },
            Change::Deleted {
                name,
                deleted_date,
                scheduled_purge_date,
            } => Self::Deleted {
                name: name.clone(),
                deleted_date: *deleted_date,
                scheduled_purge_date: *scheduled_purge_date,
            },
            Change::Recovered { name } => Self::Recovered { name: name.clone() },
            Change::Purged { name } => Self::Purged { name: name.clone() },
            Change::Restored { object } => Self::Restored {
                object: object_state(object, None),
            },
        }
    }

    pub(crate) fn into_domain<P: From<S>>(self) -> Result<Change<P>, PersistError> {
        Ok(match self {
            Self::Version { name, state } => Change::Version {
                name,
                version: version_of(state),
            },
            Self::Deleted {
                name,
                deleted_date,
                scheduled_purge_date,
            } => Change::Deleted {
                name,
                deleted_date,
                scheduled_purge_date,
            },
            Self::Recovered { name } => Change::Recovered { name },
            Self::Purged { name } => Change::Purged { name },
            Self::Restored { object } => Change::Restored {
                object: object_of(object)?,
            },
        })
    }
}

/// A payload kept in the state file and the journal. Adding an object kind takes its state
/// type, an impl of this trait, a [`KindChange`] variant, a [`VaultState`]
/// field, and one arm in `AppState::replay`.
pub trait Journaled: Clone + From<Self::State> {
    /// The payload's serde type.
    type State: for<'a> From<&'a Self>;
    /// Tags a change with its kind.
    fn kind_change(change: ChangeState<Self::State>) -> KindChange;
}

impl Journaled for SecretValue {
    type State = SecretState;
    fn kind_change(change: ChangeState<SecretState>) -> KindChange {
        KindChange::Secrets(change)
    }
}

impl Journaled for KeyMaterial {
    type State = KeyState;
    fn kind_change(change: ChangeState<KeyState>) -> KindChange {
        KindChange::Keys(change)
    }
}

impl Journaled for CertificateMaterial {
    type State = CertificateState;
    fn kind_change(change: ChangeState<CertificateState>) -> KindChange {
        KindChange::Certificates(change)
    }
}

/// The journal beside a state file: `vault-state.json` → `vault-state.json.journal` (appended,
/// so no state-file name can coincide with its own journal's).
#[must_use]
pub fn journal_path(state_file: &Path) -> PathBuf {
    let mut name = state_file.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

/// The records of a journal, in order; a torn last line is ignored, absence is no records.
pub fn read_journal(path: &Path) -> Result<Vec<Record>, PersistError> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(PersistError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    let mut records = Vec::new();
    let mut lines = text.split_inclusive(|b| *b == b'\n').enumerate().peekable();
    while let Some((index, line)) = lines.next() {
        let last = lines.peek().is_none();
        match serde_json::from_slice::<Record>(line) {
            Ok(record) if line.ends_with(b"\n") => records.push(record),
            // A crash mid-append: the write was never acknowledged.
            Ok(_) => {}
            Err(_) if last => {}
            Err(source) => {
                return Err(PersistError::Journal {
                    path: path.to_owned(),
                    line: index + 1,
                    source,
                });
            }
        }
    }
    Ok(records)
}

/// The journal of a durable state: records not yet written, and the file.
#[derive(Debug)]
pub(crate) struct Journal {
    snapshot: PathBuf,
    path: PathBuf,
    pending: Mutex<Pending>,
    /// `None` until the first compaction opens (and empties) the file; the lock serialises
    /// writes, fsyncs and compactions.
    file: Mutex<Option<Written>>,
}

#[derive(Debug)]
struct Pending {
    lines: Vec<u8>,
    /// The last sequence number issued.
    seq: u64,
}

#[derive(Debug)]
struct Written {
    file: File,
    /// Every record up to here is on disk (in the journal or a snapshot).
    durable: u64,
    /// Bytes appended since the last compaction, and the size that triggers the next one.
    size: u64,
    compact_at: u64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Journal {
    /// The journal of `snapshot`, numbering records after `seq`.
    pub(crate) fn new(snapshot: PathBuf, seq: u64) -> Self {
        Self {
            path: journal_path(&snapshot),
            snapshot,
            pending: Mutex::new(Pending {
                lines: Vec::new(),
                seq,
            }),
            file: Mutex::new(None),
        }
    }

    pub(crate) fn snapshot_path(&self) -> &Path {
        &self.snapshot
    }

    /// Buffers the records of `changes`; call while holding the lock of the store that made
    /// them, so that records of one object stay in order.
    pub(crate) fn append<P: Journaled>(&self, vault: &str, changes: &[Change<P>]) {
        let mut pending = lock(&self.pending);
        for change in changes {
            pending.seq += 1;
            let record = Record {
                seq: pending.seq,
                vault: vault.to_owned(),
                change: P::kind_change(ChangeState::from_domain(change)),
            };
            serde_json::to_writer(&mut pending.lines, &record).expect("a record serialises");
            pending.lines.push(b'\n');
        }
    }

    /// The last sequence number issued: the ticket of a change already appended.
    pub(crate) fn seq(&self) -> u64 {
        lock(&self.pending).seq
    }

    /// Drops the buffered records and returns the last number issued; call while holding
    /// every store lock, for a capture that includes them all.
    pub(crate) fn cut(&self) -> u64 {
        let mut pending = lock(&self.pending);
        pending.lines.clear();
        pending.seq
    }

    /// Returns once every record up to `ticket` is on disk, writing and fsyncing the buffer
    /// for every writer waiting (group commit), or compacting when the journal is due.
    pub(crate) fn sync_through(
        &self,
        ticket: u64,
        capture: impl FnOnce() -> Snapshot,
    ) -> Result<(), PersistError> {
        let mut file = lock(&self.file);
        let written = match file.as_mut() {
            Some(written) if written.durable >= ticket => return Ok(()),
            Some(written) if written.size < written.compact_at => written,
            _ => return self.compact_locked(&mut file, capture),
        };
        let (lines, seq) = {
            let mut pending = lock(&self.pending);
            (std::mem::take(&mut pending.lines), pending.seq)
        };
        let appended = written
            .file
            .write_all(&lines)
            .and_then(|()| written.file.sync_data());
        if let Err(source) = appended {
            // The file may end in a partial record: the next sync compacts, which rewrites
            // everything from memory and empties the file.
            *file = None;
            return Err(self.io_error(source));
        }
        written.durable = seq;
        written.size += lines.len() as u64;
        Ok(())
    }

    /// Writes a fresh snapshot and empties the journal.
    pub(crate) fn compact(&self, capture: impl FnOnce() -> Snapshot) -> Result<(), PersistError> {
        self.compact_locked(&mut lock(&self.file), capture)
    }

    fn compact_locked(
        &self,
        file: &mut Option<Written>,
        capture: impl FnOnce() -> Snapshot,
    ) -> Result<(), PersistError> {
        let snapshot = capture();
        let size = snapshot.write(&self.snapshot)?;
        // Only now may the journal go: the snapshot includes every record in it.
        let emptied = match file.take() {
            Some(written) => written.file.set_len(0).map(|()| written.file),
            None => OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .and_then(|f| f.set_len(0).map(|()| f)),
        }
        .and_then(|f| {
            f.sync_all()?;
            // The journal's name must be durable before any acknowledgement relies on it.
            File::open(self.snapshot.parent().unwrap_or_else(|| Path::new(".")))?.sync_all()?;
            Ok(f)
        })
        .map_err(|source| self.io_error(source))?;
        *file = Some(Written {
            file: emptied,
            durable: snapshot.journal_seq,
            size: 0,
            compact_at: size.max(COMPACT_AT_LEAST),
        });
        Ok(())
    }

    fn io_error(&self, source: std::io::Error) -> PersistError {
        PersistError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

/// Middleware of a durable state: a successful mutating request is answered only once its
/// change is on disk (journaled for the data plane, a compaction for `/_emulator`). A failed
/// write answers 500, since the change may not survive a crash.
pub async fn durable_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mutating = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let admin = request.uri().path().starts_with("/_emulator");
    let response = next.run(request).await;
    if !mutating || !response.status().is_success() {
        return response;
    }
    let persisting = state.clone();
    let persisted = tokio::task::spawn_blocking(move || {
        if admin {
            persisting.persist()
        } else {
            persisting.sync()
        }
    })
    .await;
    match persisted {
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

    fn durable_state(dir: &Path) -> AppState {
        let config = crate::EmulatorConfig::from_yaml(
            "vaults: [{name: Kv1, tenantId: 11111111-1111-1111-1111-111111111111}]",
        )
        .unwrap();
        let settings = Settings {
            state_file: Some(dir.join("state.json")),
            ..Settings::default()
        };
        let state = AppState::new(config, Clock::system(), settings).unwrap();
        state.persist().unwrap();
        state
    }

    fn journal_lines(dir: &Path) -> usize {
        read_journal(&dir.join("state.json.journal")).unwrap().len()
    }

    #[test]
    fn journaled_changes_replay_over_the_snapshot_and_a_torn_tail_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let state = durable_state(dir.path());
        let vault = state.vault("kv1").unwrap();
        vault.secrets().set("a", value("1"), 10).unwrap();
        vault.secrets().set("a", value("2"), 11).unwrap();
        vault.secrets().set("b", value("3"), 12).unwrap();
        let retention = Retention {
            days: 7,
            purge_protection: false,
        };
        vault.secrets().delete("b", 13, retention).unwrap();
        state.sync().unwrap();
        assert_eq!(journal_lines(dir.path()), 4);
        // Nothing new: a covered ticket writes nothing.
        state.sync().unwrap();
        assert_eq!(journal_lines(dir.path()), 4);
        let expected = state.snapshot();

        // A crash mid-append: part of a record, no newline.
        let mut journal = OpenOptions::new()
            .append(true)
            .open(dir.path().join("state.json.journal"))
            .unwrap();
        journal
            .write_all(br#"{"seq":5,"vault":"kv1","secr"#)
            .unwrap();
        let loaded = Snapshot::load(&dir.path().join("state.json"))
            .unwrap()
            .unwrap();
        assert_eq!(loaded, expected);
        assert_eq!(loaded.journal_seq, 4);
        let restored = AppState::from_snapshot(loaded, Clock::system(), Settings::default())
            .unwrap()
            .vault("kv1")
            .unwrap();
        assert_eq!(restored.secrets().versions("a").len(), 2);
        assert!(restored.secrets().deleted("b").is_ok());

        // The same bytes anywhere but at the end are corruption, not a torn tail.
        journal.write_all(b"\n{}\n").unwrap();
        assert!(matches!(
            Snapshot::load(&dir.path().join("state.json")),
            Err(PersistError::Journal { line: 5, .. })
        ));
    }

    #[test]
    fn a_certificate_with_its_key_and_secret_replays_from_the_journal() {
        use crate::certificates::store::{Issued, default_policy, issue_self_signed};
        use crate::store::{NewVersion, new_version_id};
        fn new<P>(payload: P, issued: &Issued) -> NewVersion<P> {
            NewVersion {
                payload,
                tags: None,
                enabled: None,
                not_before: Some(issued.not_before),
                expires: Some(issued.expires),
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let state = durable_state(dir.path());
        let vault = state.vault("kv1").unwrap();
        let policy = IssuancePolicy {
            subject: "CN=journaled".to_owned(),
            ..default_policy()
        };
        let (issued, csr) = issue_self_signed(&policy, 10).unwrap();
        // What the certificate handlers store: three objects under one version id.
        let version = new_version_id();
        let certificate = CertificateMaterial {
            cer: issued.chain[0].clone(),
            policy,
            request: Some(IssuanceRequest {
                request_id: "r".repeat(32),
                csr,
            }),
        };
        vault
            .certificates()
            .set_version("Cert", version.clone(), new(certificate, &issued), 10)
            .unwrap();
        vault
            .secrets()
            .set_version("Cert", version.clone(), value("pem"), 10)
            .unwrap();
        vault
            .keys()
            .set_version(
                "Cert",
                version.clone(),
                new(issued.jwk.clone(), &issued),
                10,
            )
            .unwrap();
        state.sync().unwrap();
        let records = read_journal(&dir.path().join("state.json.journal")).unwrap();
        assert!(
            records
                .iter()
                .any(|r| matches!(r.change, KindChange::Certificates(_)))
        );
        let expected = state.snapshot();
        drop(vault);
        drop(state);

        // No compaction since the certificate was made: it comes back from the journal alone.
        assert!(
            Snapshot::read(&path).unwrap().unwrap().vaults[0]
                .certificates
                .is_empty()
        );
        let loaded = Snapshot::load(&path).unwrap().unwrap();
        assert_eq!(loaded, expected);
        let restored = AppState::from_snapshot(loaded, Clock::system(), Settings::default())
            .unwrap()
            .vault("kv1")
            .unwrap();
        let (name, found) = restored.certificates().get("cert", None).unwrap();
        assert_eq!((name.as_str(), &found.version), ("Cert", &version));
        assert_eq!(
            restored
                .secrets()
                .get("cert", Some(&version))
                .unwrap()
                .1
                .payload
                .value,
            "pem"
        );
        assert_eq!(
            restored
                .keys()
                .get("cert", Some(&version))
                .unwrap()
                .1
                .payload,
            issued.jwk
        );
    }

    #[test]
    fn a_restart_after_compaction_keeps_every_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let state = durable_state(dir.path());
        let vault = state.vault("kv1").unwrap();
        vault.secrets().set("a", value("1"), 10).unwrap();
        state.sync().unwrap();
        state.persist().unwrap();
        assert_eq!(journal_lines(dir.path()), 0);
        assert_eq!(Snapshot::load(&path).unwrap().unwrap().journal_seq, 1);
        vault.secrets().set("a", value("2"), 11).unwrap();
        state.sync().unwrap();
        let expected = state.snapshot();
        drop(vault);
        drop(state);

        let loaded = Snapshot::load(&path).unwrap().unwrap();
        assert_eq!(loaded, expected);
        // The restarted state numbers its records after the replayed ones.
        let settings = Settings {
            state_file: Some(path.clone()),
            ..Settings::default()
        };
        let restarted = AppState::from_snapshot(loaded, Clock::system(), settings).unwrap();
        restarted.persist().unwrap();
        restarted
            .vault("kv1")
            .unwrap()
            .secrets()
            .set("a", value("3"), 12)
            .unwrap();
        restarted.sync().unwrap();
        let records = read_journal(&dir.path().join("state.json.journal")).unwrap();
        assert_eq!(records.iter().map(|r| r.seq).collect::<Vec<_>>(), [3]);
        let reloaded = Snapshot::load(&path).unwrap().unwrap();
        assert_eq!(reloaded, restarted.snapshot());
    }

    #[test]
    fn a_snapshot_taken_after_a_crash_mid_compaction_skips_the_records_it_includes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let state = durable_state(dir.path());
        state
            .vault("kv1")
            .unwrap()
            .secrets()
            .set("a", value("1"), 10)
            .unwrap();
        state.sync().unwrap();
        let journal = std::fs::read(dir.path().join("state.json.journal")).unwrap();
        state.persist().unwrap();
        // A crash after the new snapshot's rename but before the journal was emptied.
        std::fs::write(dir.path().join("state.json.journal"), journal).unwrap();
        let loaded = Snapshot::load(&path).unwrap().unwrap();
        assert_eq!(loaded, state.snapshot());
        assert_eq!(
            loaded.vaults[0].secrets[0].versions.len(),
            1,
            "the record is not applied twice"
        );
    }

    #[test]
    fn a_journal_that_does_not_continue_the_snapshot_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let state = durable_state(dir.path());
        let vault = state.vault("kv1").unwrap();
        vault.secrets().set("a", value("1"), 10).unwrap();
        vault.secrets().set("a", value("2"), 11).unwrap();
        state.sync().unwrap();
        let journal = dir.path().join("state.json.journal");
        let text = std::fs::read_to_string(&journal).unwrap();
        let second = text.lines().nth(1).unwrap();
        std::fs::write(&journal, format!("{second}\n")).unwrap();
        assert!(matches!(
            Snapshot::load(&path),
            Err(PersistError::Invalid(message)) if message.contains("does not continue")
        ));
    }

    #[test]
    fn saving_a_snapshot_drops_the_journal_of_the_state_it_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let state = durable_state(dir.path());
        let imported = state.snapshot();
        state
            .vault("kv1")
            .unwrap()
            .secrets()
            .set("a", value("1"), 10)
            .unwrap();
        state.sync().unwrap();
        imported.save(&path).unwrap();
        assert_eq!(Snapshot::load(&path).unwrap().unwrap(), imported);
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
