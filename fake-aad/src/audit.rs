//! The audit log: one entry per token request, readable through the admin API so scenarios can
//! assert who authenticated, how, and with what result.

use std::sync::{Arc, Mutex};

use serde::Serialize;

/// One token request.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Position in the log, from 1.
    pub seq: u64,
    /// Unix seconds on the fake's clock.
    pub time: i64,
    /// `v1`, `v2`, `imds` or `appservice`.
    pub endpoint: &'static str,
    /// Tenant segment as requested.
    pub tenant: String,
    /// `client_id` as sent (or the managed identity chosen).
    pub client_id: String,
    /// `client_secret`, `client_certificate`, `federated`, `managed_identity` or `none`.
    pub grant: &'static str,
    /// Requested resource or scope.
    pub resource: String,
    /// `success` or the AADSTS number.
    pub outcome: String,
}

/// The shared, append-only log.
#[derive(Clone, Debug, Default)]
pub struct AuditLog {
    entries: Arc<Mutex<Vec<AuditEntry>>>,
}

impl AuditLog {
    /// Appends an entry, numbering it.
    pub fn record(&self, mut entry: AuditEntry) {
        let mut entries = self.entries.lock().expect("audit lock");
        entry.seq = entries.len() as u64 + 1;
        entries.push(entry);
    }

    /// Entries after `since` (a `seq`), oldest first.
    #[must_use]
    pub fn since(&self, since: u64) -> Vec<AuditEntry> {
        let entries = self.entries.lock().expect("audit lock");
        entries.iter().filter(|e| e.seq > since).cloned().collect()
    }
}
