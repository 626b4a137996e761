//! Wire shapes shared by every Key Vault object kind: the error envelope and the paged list.
//!
//! Serde only; no behaviour beyond construction. Shapes from Azure/azure-rest-api-specs
//! `specification/keyvault/data-plane/Secrets/stable/2025-07-01/secrets.json` (`KeyVaultError`,
//! `SecretListResult`).

use serde::Serialize;

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
