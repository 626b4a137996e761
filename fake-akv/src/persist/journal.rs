//! The journal: one JSON line per store change, appended with group commit, fsynced before
//! a durable write is acknowledged, folded into a fresh snapshot by compaction.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

use super::format::{
    CertificateState, KeyState, ObjectState, SecretState, Snapshot, VersionState, object_of,
    object_state, version_of, version_state,
};
use super::{COMPACT_AT_LEAST, PersistError};
use crate::certificates::store::CertificateMaterial;
use crate::keys::store::KeyMaterial;
use crate::secrets::store::SecretValue;
use crate::store::Change;

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
/// type, an impl of this trait, a [`KindChange`] variant, a [`VaultState`](super::VaultState)
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
