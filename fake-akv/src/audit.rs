//! The audit log: one entry per data-plane request, readable at `/_emulator/audit?since=N` so
//! scenarios can assert who read what, and how often.

use serde::Serialize;

/// One request.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Position in the log, from 1.
    pub seq: u64,
    /// Unix seconds on the fake's clock.
    pub time: i64,
    /// Vault name (empty when no vault answered).
    pub vault: String,
    /// Caller `oid`, when a token was accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller_oid: Option<String>,
    /// Caller `appid`, when a token was accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller_appid: Option<String>,
    /// HTTP method.
    pub method: String,
    /// Swagger operationId, or empty when the request was refused before routing.
    pub operation: String,
    /// Object name in the path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_name: Option<String>,
    /// HTTP status answered.
    pub status: u16,
}

impl AuditEntry {
    /// Whether this is `operation` on `vault`, and on `object` when one is named; names compare
    /// as Key Vault compares them, without regard to case.
    #[must_use]
    pub fn is(&self, vault: &str, operation: &str, object: Option<&str>) -> bool {
        self.vault.eq_ignore_ascii_case(vault)
            && self.operation == operation
            && object.is_none_or(|object| {
                self.object_name
                    .as_deref()
                    .is_some_and(|name| name.eq_ignore_ascii_case(object))
            })
    }
}

/// The shared, append-only log of [`AuditEntry`]s.
pub type AuditLog = fake_kit::audit::AuditLog<AuditEntry>;

impl fake_kit::audit::Numbered for AuditEntry {
    fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }
}
