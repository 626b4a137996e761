//! The append-only, numbered log behind both fakes' audit trails (who called what, and what
//! they got), read by scenarios through the admin APIs.

use std::sync::{Arc, Mutex};

use crate::chunked::Chunked;

/// An entry that carries its position in the log.
pub trait Numbered {
    /// Sets the entry's position (from 1).
    fn set_seq(&mut self, seq: u64);
}

/// The shared log; clones share the same entries. Chunked, so an append never moves old
/// entries while every request waits on the lock.
#[derive(Debug)]
pub struct AuditLog<E> {
    entries: Arc<Mutex<Chunked<E>>>,
}

impl<E> Clone for AuditLog<E> {
    fn clone(&self) -> Self {
        Self {
            entries: self.entries.clone(),
        }
    }
}

impl<E> Default for AuditLog<E> {
    fn default() -> Self {
        Self {
            entries: Arc::default(),
        }
    }
}

impl<E: Numbered + Clone> AuditLog<E> {
    /// Appends an entry, numbering it.
    pub fn record(&self, mut entry: E) {
        let mut entries = self.entries.lock().expect("audit lock");
        entry.set_seq(entries.len() as u64 + 1);
        entries.push(entry);
    }

    /// The `seq` of the newest entry (0 when there is none): a mark to read
    /// [`AuditLog::since`] from later.
    #[must_use]
    pub fn end(&self) -> u64 {
        self.entries.lock().expect("audit lock").len() as u64
    }

    /// Entries after `since` (a `seq`), oldest first.
    #[must_use]
    pub fn since(&self, since: u64) -> Vec<E> {
        let entries = self.entries.lock().expect("audit lock");
        // Entry `seq` sits at index `seq - 1`.
        let start = usize::try_from(since).unwrap_or(usize::MAX);
        entries.iter_from(start).cloned().collect()
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
        for _ in 0..5000 {
            log.record(Entry(0, "x"));
        }
        let tail = log.since(4095);
        assert_eq!(tail.len(), 905);
        assert_eq!(tail.first().map(|e| e.0), Some(4096));
        assert_eq!(tail.last().map(|e| e.0), Some(5000));
        assert_eq!(log.end(), 5000);
    }
}
