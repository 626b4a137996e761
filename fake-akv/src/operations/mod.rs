//! The operations on a vault that every caller goes through: the data-plane handlers, the
//! `/_emulator` routes and the harness's steps. Each one owns its rules (names, Key Vault's
//! documented limits, objects a certificate manages, the vault's retention), so no caller can
//! write what Key Vault would refuse: `secrets` sets and updates, `lifecycle` deletes,
//! recovers and purges any kind ([`Kind`]), `access` grants and revokes, `managed` knows what
//! a certificate owns. The stores beneath (`store`) know versions and
//! the soft-delete lifecycle; the operations know what Key Vault allows.

mod access;
mod lifecycle;
mod managed;
mod secrets;
#[cfg(test)]
mod tests;

pub use access::{AccessChange, AccessError, Granted};
pub use lifecycle::{Kind, Purge};
pub use secrets::{MAX_CONTENT_TYPE, MAX_TAG_CHARS, MAX_TAGS, MAX_VALUE_BYTES, check_limits};

use crate::kind::ObjectKind;
use crate::store::StoreError;

/// Why an operation was refused. [`crate::AkvError::from_op`] gives its Key Vault wire form.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum OpError {
    /// The store refused (not found, deleted, being deleted, purge protected, ...).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The object's lifetime belongs to a certificate of the same name.
    #[error("{operation} is not allowed: the {} {name} belongs to the certificate {name}", .kind.noun())]
    Managed {
        /// `set`, `delete`, ...
        operation: &'static str,
        /// Secrets or keys.
        kind: ObjectKind,
        /// The object.
        name: String,
    },
    /// A value outside Key Vault's documented limits.
    #[error("{0}")]
    BadParameter(String),
    /// A name outside `^[0-9a-zA-Z-]{1,127}$`.
    #[error("invalid name '{0}': 1-127 letters, digits and dashes")]
    InvalidName(String),
}
