//! The journal: one JSON line per store change, appended with group commit, fsynced before
//! a durable write is acknowledged, folded into a fresh snapshot by compaction.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use fake_kit::durable::{remove_if_present, sync_folder_of};
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

/// The journal segment a background compaction is folding into a fresh snapshot:
/// `vault-state.json.journal.old`. It exists from a rotation until that snapshot is on disk, and
/// its records all precede the current segment's.
#[must_use]
pub fn folding_journal_path(state_file: &Path) -> PathBuf {
    let mut name = journal_path(state_file).into_os_string();
    name.push(".old");
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

/// The journal of a durable state: records not yet written, and the files.
#[derive(Debug)]
pub(crate) struct Journal {
    snapshot: PathBuf,
    path: PathBuf,
    folding_path: PathBuf,
    pending: Mutex<Pending>,
    /// Serialises writes, fsyncs, rotations and compactions.
    disk: Mutex<Disk>,
}

#[derive(Debug)]
struct Pending {
    lines: Vec<u8>,
    /// The last sequence number issued.
    seq: u64,
}

#[derive(Debug, Default)]
struct Disk {
    /// `None` until the first compaction opens (and empties) the current segment, and again
    /// after a failed write or rotation: the next sync then compacts in full.
    written: Option<Written>,
    /// The background compaction folding the previous segment into a fresh snapshot; it
    /// answers that snapshot's size.
    folding: Option<JoinHandle<Result<u64, PersistError>>>,
}

#[derive(Debug)]
struct Written {
    file: File,
    /// Every record up to here is on disk (in a journal segment or a snapshot).
    durable: u64,
    /// Bytes appended to the current segment, and the size that rotates it.
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
            folding_path: folding_journal_path(&snapshot),
            snapshot,
            pending: Mutex::new(Pending {
                lines: Vec::new(),
                seq,
            }),
            disk: Mutex::default(),
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

    /// The last sequence number issued: the ticket of a change already appended, and the
    /// `journalSeq` of a capture taken under every store lock.
    pub(crate) fn seq(&self) -> u64 {
        lock(&self.pending).seq
    }

    /// Returns once every record up to `ticket` is on disk, writing and fsyncing the buffer
    /// for every writer waiting (group commit). A segment grown past the last snapshot's size
    /// is then rotated and folded into a fresh snapshot off the write path. `capture` is
    /// called only when the journal must first be compacted in full (the first write, or
    /// after a failure).
    pub(crate) fn sync_through(
        &self,
        ticket: u64,
        capture: impl FnOnce() -> Snapshot,
    ) -> Result<(), PersistError> {
        let mut guard = lock(&self.disk);
        let disk = &mut *guard;
        reap(disk, false);
        let written = match disk.written.as_mut() {
            Some(written) if written.durable >= ticket => return Ok(()),
            Some(written) => written,
            None => return self.compact_locked(disk, capture),
        };
        let (lines, seq) = {
            let pending = &mut *lock(&self.pending);
            (std::mem::take(&mut pending.lines), pending.seq)
        };
        let appended = written
            .file
            .write_all(&lines)
            .and_then(|()| written.file.sync_data());
        if let Err(source) = appended {
            // The file may end in a partial record: the next sync compacts, which rewrites
            // everything from memory and empties the file.
            disk.written = None;
            return Err(io_error(&self.path, source));
        }
        written.durable = seq;
        written.size += lines.len() as u64;
        if written.size >= written.compact_at && disk.folding.is_none() {
            // This write is durable already; a failed rotation only makes the next sync
            // compact in full.
            if let Err(error) = self.rotate(disk) {
                tracing::error!(%error, "rotating the journal; the next write compacts in full");
                disk.written = None;
            }
        }
        Ok(())
    }

    /// Starts a new segment and folds the previous one into a fresh snapshot on a thread of
    /// its own. The fold is a restart's load done off-line: the snapshot file and the
    /// segments are read back from disk, replayed, and written as the new snapshot, so that
    /// neither the live state's locks nor the writers wait for any of it. A crash at any point
    /// leaves the old snapshot and both segments, or the new snapshot (which includes the
    /// previous segment) and both, replayable either way.
    fn rotate(&self, disk: &mut Disk) -> Result<(), PersistError> {
        let written = disk.written.as_mut().expect("rotating a written journal");
        std::fs::rename(&self.path, &self.folding_path)
            .map_err(|source| io_error(&self.path, source))?;
        written.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|file| {
                // The new segment's name must be durable before a write in it is acknowledged.
                self.sync_folder()?;
                Ok(file)
            })
            .map_err(|source| io_error(&self.path, source))?;
        written.size = 0;
        let (path, folding) = (self.snapshot.clone(), self.folding_path.clone());
        let thread = std::thread::Builder::new()
            .name("fake-akv-compaction".into())
            .spawn(move || {
                let started = std::time::Instant::now();
                let snapshot = Snapshot::load(&path)?.ok_or_else(|| {
                    PersistError::Invalid(format!("{}: the state file is gone", path.display()))
                })?;
                let size = snapshot.write(&path)?;
                // Only now may the previous segment go: the snapshot includes it.
                std::fs::remove_file(&folding)
                    .and_then(|()| sync_folder_of(&path))
                    .map_err(|source| io_error(&folding, source))?;
                tracing::debug!(took = ?started.elapsed(), size, seq = snapshot.journal_seq, "journal folded into the snapshot");
                Ok(size)
            })
            .map_err(|source| io_error(&self.snapshot, source))?;
        disk.folding = Some(thread);
        Ok(())
    }

    /// Writes a fresh snapshot and empties the journal, waiting for a background compaction.
    pub(crate) fn compact(&self, capture: impl FnOnce() -> Snapshot) -> Result<(), PersistError> {
        self.compact_locked(&mut lock(&self.disk), capture)
    }

    fn compact_locked(
        &self,
        disk: &mut Disk,
        capture: impl FnOnce() -> Snapshot,
    ) -> Result<(), PersistError> {
        // Two writers of the snapshot must not race: an older capture could land last.
        reap(disk, true);
        let snapshot = capture();
        let size = snapshot.write(&self.snapshot)?;
        // Only now may the journal go: the snapshot includes every record in both segments.
        let emptied = match disk.written.take() {
            Some(written) => written.file.set_len(0).map(|()| written.file),
            None => OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .and_then(|f| f.set_len(0).map(|()| f)),
        }
        .and_then(|f| {
            f.sync_all()?;
            remove_if_present(&self.folding_path)?;
            // The journal's name must be durable before any acknowledgement relies on it.
            self.sync_folder()?;
            Ok(f)
        })
        .map_err(|source| io_error(&self.path, source))?;
        disk.written = Some(Written {
            file: emptied,
            durable: snapshot.journal_seq,
            size: 0,
            compact_at: size.max(COMPACT_AT_LEAST),
        });
        Ok(())
    }

    fn sync_folder(&self) -> std::io::Result<()> {
        sync_folder_of(&self.snapshot)
    }
}

fn io_error(path: &Path, source: std::io::Error) -> PersistError {
    PersistError::Io {
        path: path.to_owned(),
        source,
    }
}

impl Drop for Journal {
    /// A background compaction finishes before its journal goes, so that a state reopened in
    /// the same process never races a snapshot written for the old one.
    fn drop(&mut self) {
        reap(&mut lock(&self.disk), true);
    }
}

/// Collects a finished background compaction (or waits for it with `wait`). The next rotation
/// is due when the segment outgrows the snapshot just written; a failed compaction makes the
/// next sync compact in full, which also removes the previous segment.
fn reap(disk: &mut Disk, wait: bool) {
    let Some(folding) = disk.folding.take_if(|thread| wait || thread.is_finished()) else {
        return;
    };
    match folding.join() {
        Ok(Ok(size)) => {
            if let Some(written) = disk.written.as_mut() {
                written.compact_at = size.max(COMPACT_AT_LEAST);
            }
        }
        Ok(Err(error)) => {
            tracing::error!(%error, "compacting the journal; the next write compacts in full");
            disk.written = None;
        }
        Err(_) => {
            tracing::error!("the journal's compaction panicked; the next write compacts in full");
            disk.written = None;
        }
    }
}
