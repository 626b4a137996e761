//! Secrets: the route table for `/secrets` and `/deletedsecrets` ([`SecretOperation::classify`]),
//! the handlers ([`handlers`]), the wire types ([`wire`]), the domain store ([`store`]) and the
//! backup blob format ([`backup`]).
//!
//! Routing is a match on path segments rather than an axum `Router` because Key Vault's paths
//! are ambiguous for a generic router: an empty version segment means "latest"
//! (`/secrets/{name}/`, sent by the Python, Go and .NET SDKs and by ESO, §2.4), literal
//! segments (`versions`, `backup`, `restore`) win over names, and the operation must be known
//! before the body is read so that authorization precedes validation.

pub mod backup;
pub mod handlers;
pub mod store;
pub mod wire;

use axum::http::Method;

use crate::auth::rbac::Requirement;
use crate::kind::ObjectKind;

/// One Key Vault secret operation, named by its swagger `operationId`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretOperation {
    /// `GET /secrets`.
    GetSecrets,
    /// `PUT /secrets/{name}`.
    SetSecret(String),
    /// `DELETE /secrets/{name}`.
    DeleteSecret(String),
    /// `GET /secrets/{name}[/{version}]`; `None` = latest.
    GetSecret(String, Option<String>),
    /// `PATCH /secrets/{name}[/{version}]`; `None` = latest.
    UpdateSecret(String, Option<String>),
    /// `GET /secrets/{name}/versions`.
    GetSecretVersions(String),
    /// `POST /secrets/{name}/backup`.
    BackupSecret(String),
    /// `POST /secrets/restore`.
    RestoreSecret,
    /// `GET /deletedsecrets`.
    GetDeletedSecrets,
    /// `GET /deletedsecrets/{name}`.
    GetDeletedSecret(String),
    /// `DELETE /deletedsecrets/{name}`.
    PurgeDeletedSecret(String),
    /// `POST /deletedsecrets/{name}/recover`.
    RecoverDeletedSecret(String),
}

impl SecretOperation {
    /// The operation for a method and the path segments after the leading `/` (one trailing
    /// empty segment already removed). `None`: not a secret path, or no such method on it.
    #[must_use]
    pub fn classify(method: &Method, segments: &[&str]) -> Option<Self> {
        use SecretOperation as Op;
        let name = |s: &str| s.to_owned();
        let version = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let op = match (segments, method.as_str()) {
            (["secrets"], "GET") => Op::GetSecrets,
            (["secrets", "restore"], "POST") => Op::RestoreSecret,
            (["secrets", n], "PUT") => Op::SetSecret(name(n)),
            (["secrets", n], "DELETE") => Op::DeleteSecret(name(n)),
            (["secrets", n], "GET") => Op::GetSecret(name(n), None),
            (["secrets", n], "PATCH") => Op::UpdateSecret(name(n), None),
            (["secrets", n, "versions"], "GET") => Op::GetSecretVersions(name(n)),
            (["secrets", n, "backup"], "POST") => Op::BackupSecret(name(n)),
            (["secrets", n, v], "GET") => Op::GetSecret(name(n), version(v)),
            (["secrets", n, v], "PATCH") => Op::UpdateSecret(name(n), version(v)),
            (["deletedsecrets"], "GET") => Op::GetDeletedSecrets,
            (["deletedsecrets", n], "GET") => Op::GetDeletedSecret(name(n)),
            (["deletedsecrets", n], "DELETE") => Op::PurgeDeletedSecret(name(n)),
            (["deletedsecrets", n, "recover"], "POST") => Op::RecoverDeletedSecret(name(n)),
            _ => return None,
        };
        Some(op)
    }

    /// The swagger `operationId`, for the audit log.
    #[must_use]
    pub fn operation_id(&self) -> &'static str {
        use SecretOperation as Op;
        match self {
            Op::GetSecrets => "GetSecrets",
            Op::SetSecret(_) => "SetSecret",
            Op::DeleteSecret(_) => "DeleteSecret",
            Op::GetSecret(..) => "GetSecret",
            Op::UpdateSecret(..) => "UpdateSecret",
            Op::GetSecretVersions(_) => "GetSecretVersions",
            Op::BackupSecret(_) => "BackupSecret",
            Op::RestoreSecret => "RestoreSecret",
            Op::GetDeletedSecrets => "GetDeletedSecrets",
            Op::GetDeletedSecret(_) => "GetDeletedSecret",
            Op::PurgeDeletedSecret(_) => "PurgeDeletedSecret",
            Op::RecoverDeletedSecret(_) => "RecoverDeletedSecret",
        }
    }

    /// The object name in the path, if any.
    #[must_use]
    pub fn object(&self) -> Option<&str> {
        use SecretOperation as Op;
        match self {
            Op::GetSecrets | Op::RestoreSecret | Op::GetDeletedSecrets => None,
            Op::SetSecret(n)
            | Op::DeleteSecret(n)
            | Op::GetSecret(n, _)
            | Op::UpdateSecret(n, _)
            | Op::GetSecretVersions(n)
            | Op::BackupSecret(n)
            | Op::GetDeletedSecret(n)
            | Op::PurgeDeletedSecret(n)
            | Op::RecoverDeletedSecret(n) => Some(n),
        }
    }

    /// What the caller needs. Data actions from the built-in role definitions
    /// (`built-in-roles/security.md`); listing and deleted-object reads need `readMetadata`.
    /// Access-policy permissions follow the portal's grouping: get, list, set, delete,
    /// recover, backup, restore, purge. Which permission the deleted-secret reads need is not
    /// documented; `list` for the listing and `get` for one object are our choice.
    #[must_use]
    pub fn requirement(&self) -> Requirement {
        use SecretOperation as Op;
        let (action, permission) = match self {
            Op::GetSecrets | Op::GetSecretVersions(_) | Op::GetDeletedSecrets => (
                "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
                "list",
            ),
            Op::GetDeletedSecret(_) => (
                "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
                "get",
            ),
            Op::SetSecret(_) => ("Microsoft.KeyVault/vaults/secrets/setSecret/action", "set"),
            Op::DeleteSecret(_) => ("Microsoft.KeyVault/vaults/secrets/delete", "delete"),
            Op::GetSecret(..) => ("Microsoft.KeyVault/vaults/secrets/getSecret/action", "get"),
            Op::UpdateSecret(..) => ("Microsoft.KeyVault/vaults/secrets/update/action", "set"),
            Op::BackupSecret(_) => ("Microsoft.KeyVault/vaults/secrets/backup/action", "backup"),
            Op::RestoreSecret => (
                "Microsoft.KeyVault/vaults/secrets/restore/action",
                "restore",
            ),
            Op::PurgeDeletedSecret(_) => {
                ("Microsoft.KeyVault/vaults/secrets/purge/action", "purge")
            }
            Op::RecoverDeletedSecret(_) => (
                "Microsoft.KeyVault/vaults/secrets/recover/action",
                "recover",
            ),
        };
        Requirement {
            kind: ObjectKind::Secrets,
            action,
            permission,
            object: match self {
                Op::GetSecretVersions(_) => None,
                other => other.object().map(str::to_owned),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SecretOperation as Op;

    fn classify(method: &Method, path: &str) -> Option<Op> {
        Op::classify(method, &crate::dataplane::segments(path))
    }

    #[test]
    fn literal_segments_win_over_names_and_versions() {
        assert_eq!(
            classify(&Method::GET, "/secrets/a/versions"),
            Some(Op::GetSecretVersions("a".into()))
        );
        assert_eq!(
            classify(&Method::POST, "/secrets/restore"),
            Some(Op::RestoreSecret)
        );
        assert_eq!(
            classify(&Method::POST, "/secrets/a/backup"),
            Some(Op::BackupSecret("a".into()))
        );
        assert_eq!(
            classify(&Method::GET, "/secrets/a/0123"),
            Some(Op::GetSecret("a".into(), Some("0123".into())))
        );
    }

    #[test]
    fn trailing_slash_and_no_slash_both_mean_latest() {
        assert_eq!(
            classify(&Method::GET, "/secrets/a/"),
            Some(Op::GetSecret("a".into(), None))
        );
        assert_eq!(
            classify(&Method::GET, "/secrets/a"),
            Some(Op::GetSecret("a".into(), None))
        );
        assert_eq!(
            classify(&Method::PATCH, "/secrets/a/"),
            Some(Op::UpdateSecret("a".into(), None))
        );
    }

    #[test]
    fn unknown_combinations_are_none() {
        assert_eq!(classify(&Method::PUT, "/secrets/"), None);
        assert_eq!(classify(&Method::POST, "/secrets/a"), None);
        assert_eq!(classify(&Method::GET, "/other"), None);
    }
}
