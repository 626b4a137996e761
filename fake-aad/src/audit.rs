//! The audit log: one entry per token request, readable through the admin API so scenarios can
//! assert who authenticated, how, and with what result.

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

/// The shared, append-only log of [`AuditEntry`]s.
pub type AuditLog = fake_kit::audit::AuditLog<AuditEntry>;

impl fake_kit::audit::Numbered for AuditEntry {
    fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }
}
