//! Wire shapes shared by every Key Vault object kind: the error envelope, the paged list and
//! the attributes every object carries.
//!
//! Serde only; no behaviour beyond construction. Shapes from Azure/azure-rest-api-specs
//! `specification/keyvault/data-plane/Secrets/stable/2025-07-01/secrets.json` (`KeyVaultError`,
//! `SecretListResult`).

use serde::{Deserialize, Serialize};

use crate::store::{Tags, Version, VersionUpdate};

/// `KeyVaultError`: `{"error":{"code","message","innererror"?}}`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct KeyVaultError {
    /// The error.
    pub error: ErrorDetail,
}

/// `Error` in the spec: code, message and an optional inner error of the same shape.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ErrorDetail {
    /// Error code, e.g. `SecretNotFound`, `Forbidden`.
    pub code: String,
    /// Human-readable message, verbatim from Azure where recorded.
    pub message: String,
    /// The more specific inner code (`SecretDisabled`, `ForbiddenByRbac`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub innererror: Option<InnerError>,
}

/// The inner error: only a code in every recorded body.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct InnerError {
    /// Inner error code.
    pub code: String,
}

/// A page of a list operation. `nextLink` is always present: `null` on the last page, as
/// recorded (Azure/azure-sdk-assets `net/.../GetSecretVersionsNonExisting.json`:
/// `{"value":[],"nextLink":null}`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResult<T> {
    /// The items of this page.
    pub value: Vec<T>,
    /// Absolute URL of the next page.
    pub next_link: Option<String>,
}

/// The attributes every object kind answers with: `SecretAttributes`, `KeyAttributes` and
/// `CertificateAttributes` in the specs share these fields (keys add `exportable`).
/// `enabled` is always sent: ESO dereferences it on list items (`eso-azurekv.md` §1.5).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attributes {
    /// Enabled.
    pub enabled: bool,
    /// Not before, Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Expires, Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Created, Unix seconds.
    pub created: i64,
    /// Updated, Unix seconds.
    pub updated: i64,
    /// `DeletionRecoveryLevel`.
    pub recovery_level: &'static str,
    /// Soft-delete retention in days.
    pub recoverable_days: u32,
}

impl Attributes {
    /// The attributes of `version` in a vault with `recovery`.
    #[must_use]
    pub fn of<P>(version: &Version<P>, recovery: Recovery) -> Self {
        Self {
            enabled: version.enabled,
            nbf: version.not_before,
            exp: version.expires,
            created: version.created,
            updated: version.updated,
            recovery_level: recovery.level,
            recoverable_days: recovery.days,
        }
    }
}

/// The attributes a client may send for a secret or a key.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AttributesIn {
    /// Enabled.
    pub enabled: Option<bool>,
    /// Not before.
    pub nbf: Option<i64>,
    /// Expires.
    pub exp: Option<i64>,
}

impl AttributesIn {
    /// The domain update of these attributes plus `tags`.
    #[must_use]
    pub fn into_update(self, tags: Option<Tags>) -> VersionUpdate {
        VersionUpdate {
            tags,
            enabled: self.enabled,
            not_before: self.nbf,
            expires: self.exp,
        }
    }
}

/// How the vault's soft-delete settings read on the wire.
#[derive(Clone, Copy, Debug)]
pub struct Recovery {
    /// `recoveryLevel`.
    pub level: &'static str,
    /// `recoverableDays`.
    pub days: u32,
}

impl Recovery {
    /// Recovery level for a retention period and purge protection: 90 days reads
    /// `Recoverable`, shorter `CustomizedRecoverable` (§2.5: 90 with `Recoverable+Purgeable`,
    /// 7 with `CustomizedRecoverable+Purgeable`); `+Purgeable` unless purge protection is on.
    #[must_use]
    pub fn new(days: u32, purge_protection: bool) -> Self {
        let level = match (days >= 90, purge_protection) {
            (true, false) => "Recoverable+Purgeable",
            (true, true) => "Recoverable",
            (false, false) => "CustomizedRecoverable+Purgeable",
            (false, true) => "CustomizedRecoverable",
        };
        Self { level, days }
    }
}
