//! Objects a certificate manages: a live certificate owns the secret and the key of its name
//! (its PFX or PEM, and its key pair), which Key Vault then refuses to set, create, import or
//! delete directly.

use super::OpError;
use crate::kind::ObjectKind;
use crate::state::Vault;

impl Vault {
    /// Whether a live certificate of this name exists, which then owns the secret and key
    /// of the same name. Takes the certificate lock alone: call it holding no store guard.
    #[must_use]
    pub fn holds_certificate(&self, name: &str) -> bool {
        self.certificates().contains(name)
    }

    /// Lower-cased names of the live certificates (for marking list items managed).
    #[must_use]
    pub fn certificate_names(&self) -> std::collections::BTreeSet<String> {
        self.certificates()
            .listed()
            .map(|c| c.name.to_ascii_lowercase())
            .collect()
    }

    /// Refuses `operation` on a certificate's secret or key.
    pub fn refuse_managed(
        &self,
        name: &str,
        operation: &'static str,
        kind: ObjectKind,
    ) -> Result<(), OpError> {
        if self.holds_certificate(name) {
            return Err(OpError::Managed {
                operation,
                kind,
                name: name.to_owned(),
            });
        }
        Ok(())
    }
}
