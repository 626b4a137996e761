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
//! sweep at the purge date) or `restored` (a whole object from a backup). While a compaction
//! runs in the background, the previous segment, `<state file>.journal.old`, sits beside it.
//! [`Snapshot::load`] reads the snapshot and replays, in order, the records of both segments
//! (the previous one first) whose `seq` is above its `journalSeq`; they must continue it
//! without a gap.
//!
//! # Durability
//!
//! With [`Settings::state_file`](crate::Settings::state_file) set, the
//! [`durable_writes`](crate::middleware::durable_writes) middleware holds back the response of every successful mutating data-plane request until
//! the journal records of its change are fsynced. Records are appended to an in-memory buffer
//! while the store lock of the change is held (so per object they are in the order the store
//! made them) and take a sequence number; a request's ticket is the highest number issued
//! after its change. Group commit: the writer that gets the disk lock writes the whole buffer
//! and fsyncs once, which covers every ticket issued so far, so writers whose ticket is already
//! covered return without writing. A write costs O(size of its change), not O(state).
//!
//! Compaction keeps replay short. When the current segment has grown past the size of the
//! last snapshot (at least [`COMPACT_AT_LEAST`] bytes, so amortised O(1) per write), the writer
//! that grew it renames it to the previous segment, opens a fresh one and fsyncs the folder;
//! writers go on appending to the fresh segment. A thread of its own then folds: it does what
//! a restart does ([`Snapshot::load`]: the snapshot file and both segments read back from
//! disk and replayed into a scratch state), writes the result as the new snapshot with
//! [`fake_kit::durable::write_atomic_with`] (streamed to a temp file fsynced every few MiB,
//! renamed, the folder fsynced) and only then removes the previous segment. The live state is
//! never locked for it and no write waits for it. A full compaction (capture of the live
//! state under every store lock, snapshot, both segments emptied) runs in the caller at start,
//! after every `/_emulator` write (vault configuration is not journaled), at a clean shutdown
//! and after a failed fold; it first waits for a running fold, so that two snapshot writers
//! never race.
//!
//! Crash safety: before the snapshot's rename the old snapshot and both segments are intact;
//! after it the new snapshot includes every record of the previous segment (and perhaps the
//! first of the current one), which replay skips by `seq`.
//! A crash mid-append leaves a torn last line (no newline, or not valid JSON), which was never
//! acknowledged and is ignored; any other unreadable line is an error, not silently dropped.

mod format;
mod journal;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use format::{CertificateState, KeyState, ObjectState, SecretState, Snapshot, VaultState};
pub(crate) use format::{capture, rebuild};
pub(crate) use journal::Journal;
pub use journal::{
    Journaled, KindChange, Record, folding_journal_path, journal_path, read_journal,
};

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
