//! The append-only, numbered log behind both fakes' audit trails (who called what, and what
//! they got), read by scenarios through the admin APIs.

use std::sync::{Arc, Mutex};

/// An entry that carries its position in the log.
pub trait Numbered {
    /// Sets the entry's position (from 1).
    fn set_seq(&mut self, seq: u64);
    /// The entry's position.
    fn seq(&self) -> u64;
}

/// The shared log; clones share the same entries.
#[derive(Debug)]
pub struct AuditLog<E> {
    entries: Arc<Mutex<Vec<E>>>,
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

    /// Entries after `since` (a `seq`), oldest first.
    #[must_use]
    pub fn since(&self, since: u64) -> Vec<E> {
        let entries = self.entries.lock().expect("audit lock");
        entries
            .iter()
            .filter(|e| e.seq() > since)
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
        fn seq(&self) -> u64 {
            self.0
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
    }
}
