//! What a secret version holds, and the secret names of the generic [`crate::store`] types.

use crate::store::{Deleted, NewVersion, Object, ObjectStore, Version};

/// A secret version's payload: the value and its content type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecretValue {
    /// The value.
    pub value: String,
    /// `contentType`.
    pub content_type: Option<String>,
}

/// A vault's secrets.
pub type SecretStore = ObjectStore<SecretValue>;
/// A secret with its versions.
pub type Secret = Object<SecretValue>;
/// One secret version.
pub type SecretVersion = Version<SecretValue>;
/// A soft-deleted secret.
pub type DeletedSecret = Deleted<SecretValue>;
/// A set request.
pub type NewSecretVersion = NewVersion<SecretValue>;
