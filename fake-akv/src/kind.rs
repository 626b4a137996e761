//! The three kinds of vault object, named the way paths, permissions and messages name them.

/// The object kind an operation touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    /// Secrets.
    Secrets,
    /// Keys.
    Keys,
    /// Certificates.
    Certificates,
}

impl ObjectKind {
    /// The noun in messages: `secret`, `key`, `certificate`.
    #[must_use]
    pub fn noun(self) -> &'static str {
        match self {
            ObjectKind::Secrets => "secret",
            ObjectKind::Keys => "key",
            ObjectKind::Certificates => "certificate",
        }
    }

    /// The path segment and access-policy list name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Secrets => "secrets",
            ObjectKind::Keys => "keys",
            ObjectKind::Certificates => "certificates",
        }
    }
}
