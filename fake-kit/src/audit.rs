//! The append-only, numbered log behind both fakes' audit trails (who called what, and what
//! they got), read by scenarios through the admin APIs.

use std::sync::{Arc, Mutex};

/// An entry that carries its position in the log.
pub trait Numbered {
    /// Sets the entry's position (from 1).
    fn set_seq(&mut self, seq: u64);
}

/// Entries per chunk: the log grows by whole chunks, so an append never moves old entries
/// (a single `Vec` would copy the whole log, under the lock, at every doubling).
const CHUNK: usize = 4096;

/// The shared log; clones share the same entries.
#[derive(Debug)]
pub struct AuditLog<E> {
    chunks: Arc<Mutex<Vec<Vec<E>>>>,
}

impl<E> Clone for AuditLog<E> {
    fn clone(&self) -> Self {
        Self {
            chunks: self.chunks.clone(),
        }
    }
}

impl<E> Default for AuditLog<E> {
    fn default() -> Self {
        Self {
            chunks: Arc::default(),
        }
    }
}

impl<E: Numbered + Clone> AuditLog<E> {
    /// Appends an entry, numbering it.
    pub fn record(&self, mut entry: E) {
        let mut chunks = self.chunks.lock().expect("audit lock");
        let full = chunks.last().is_none_or(|c| c.len() == CHUNK);
        if full {
            chunks.push(Vec::with_capacity(CHUNK));
        }
        let seq = ((chunks.len() - 1) * CHUNK) as u64;
        let last = chunks.last_mut().expect("a chunk was just ensured");
        entry.set_seq(seq + last.len() as u64 + 1);
        last.push(entry);
    }

    /// The `seq` of the newest entry (0 when there is none): a mark to read
    /// [`AuditLog::since`] from later.
    #[must_use]
    pub fn end(&self) -> u64 {
        let chunks = self.chunks.lock().expect("audit lock");
        chunks
            .last()
            .map_or(0, |last| ((chunks.len() - 1) * CHUNK + last.len()) as u64)
    }

    /// Entries after `since` (a `seq`), oldest first.
    #[must_use]
    pub fn since(&self, since: u64) -> Vec<E> {
        let chunks = self.chunks.lock().expect("audit lock");
        // Entry `seq` sits at index `seq - 1`: skip straight to the first one wanted.
        let skip = usize::try_from(since).unwrap_or(usize::MAX);
        chunks
            .iter()
            .skip(skip / CHUNK)
            .flatten()
            .skip(skip % CHUNK)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Entry(u64, &'static str);

    impl Numbered for Entry {
        fn set_seq(&mut self, seq: u64) {
            self.0 = seq;
        }
    }

    #[test]
    fn entries_are_numbered_and_read_after_a_position() {
        let log = AuditLog::default();
        let shared = log.clone();
        log.record(Entry(0, "a"));
        shared.record(Entry(0, "b"));
        assert_eq!(log.since(0), vec![Entry(1, "a"), Entry(2, "b")]);
        assert_eq!(log.since(1), vec![Entry(2, "b")]);
        assert!(log.since(5).is_empty());
        assert_eq!(log.end(), 2);
    }

    #[test]
    fn reads_across_chunks_start_at_the_right_entry() {
        let log = AuditLog::default();
        for _ in 0..CHUNK + 10 {
            log.record(Entry(0, "x"));
        }
        let tail = log.since(CHUNK as u64 - 1);
        assert_eq!(tail.len(), 11);
        assert_eq!(tail.first().map(|e| e.0), Some(CHUNK as u64));
        assert_eq!(tail.last().map(|e| e.0), Some(CHUNK as u64 + 10));
        assert_eq!(log.end(), CHUNK as u64 + 10);
    }
}
