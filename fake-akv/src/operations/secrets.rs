//! Secret operations: set and update, with Key Vault's rules (the lifecycle is in
//! [`super::lifecycle`]).

use super::OpError;
use crate::kind::ObjectKind;
use crate::secrets::store::{NewSecretVersion, SecretVersion};
use crate::state::Vault;
use crate::store::{Tags, VersionUpdate};
use crate::vault::valid_object_name;

/// Secret value limit: 25k bytes (MicrosoftDocs `key-vault/secrets/about-secrets.md`).
pub const MAX_VALUE_BYTES: usize = 25_600;
/// Content type limit: 255 characters (same page).
pub const MAX_CONTENT_TYPE: usize = 255;
/// Tag limits: 15 tags, 512 characters per name and value (same page).
pub const MAX_TAGS: usize = 15;
/// Tag name and value limit.
pub const MAX_TAG_CHARS: usize = 512;

/// Key Vault's documented limits on what a secret version carries.
pub fn check_limits(
    value: Option<&str>,
    content_type: Option<&str>,
    tags: Option<&Tags>,
) -> Result<(), OpError> {
    // Wording of these 400s is unrecorded (§3.5); the limits are documented.
    if value.is_some_and(|v| v.len() > MAX_VALUE_BYTES) {
        return Err(OpError::BadParameter(format!(
            "Secret value is too large. The maximum allowed size is {MAX_VALUE_BYTES} bytes."
        )));
    }
    if content_type.is_some_and(|c| c.chars().count() > MAX_CONTENT_TYPE) {
        return Err(OpError::BadParameter(format!(
            "Content type is too long. The maximum length is {MAX_CONTENT_TYPE} characters."
        )));
    }
    if let Some(tags) = tags {
        if tags.len() > MAX_TAGS {
            return Err(OpError::BadParameter(format!(
                "Too many tags. The maximum number of tags is {MAX_TAGS}."
            )));
        }
        if tags
            .iter()
            .any(|(k, v)| k.chars().count() > MAX_TAG_CHARS || v.chars().count() > MAX_TAG_CHARS)
        {
            return Err(OpError::BadParameter(format!(
                "Tag names and values are limited to {MAX_TAG_CHARS} characters."
            )));
        }
    }
    Ok(())
}

impl Vault {
    /// `SetSecret`: a new version (the secret is created on first use).
    pub fn set_secret(
        &self,
        name: &str,
        new: NewSecretVersion,
        now: i64,
    ) -> Result<(String, SecretVersion), OpError> {
        if !valid_object_name(name) {
            return Err(OpError::InvalidName(name.to_owned()));
        }
        self.refuse_managed(name, "set", ObjectKind::Secrets)?;
        check_limits(
            Some(&new.payload.value),
            new.payload.content_type.as_deref(),
            new.tags.as_ref(),
        )?;
        Ok(self.secrets().set(name, new, now)?)
    }

    /// `UpdateSecret`: attributes, tags and content type of one version (the latest when
    /// `version` is `None`).
    pub fn update_secret(
        &self,
        name: &str,
        version: Option<&str>,
        update: VersionUpdate,
        content_type: Option<String>,
        now: i64,
    ) -> Result<(String, SecretVersion), OpError> {
        check_limits(None, content_type.as_deref(), update.tags.as_ref())?;
        let change = |payload: &mut crate::secrets::store::SecretValue| {
            if let Some(content_type) = content_type {
                payload.content_type = Some(content_type);
            }
        };
        Ok(self.secrets().update(name, version, update, change, now)?)
    }
}
