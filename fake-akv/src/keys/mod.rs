//! Keys: the route table for `/keys` and `/deletedkeys` ([`KeyOperation::classify`]), the
//! handlers ([`handlers`]), the wire types ([`wire`]) and the key material ([`store`]).
//!
//! Create (RSA, EC), import, get, update, list, versions, delete, get/list deleted, recover and
//! purge. Cryptographic operations, backup/restore and rotation are not emulated and answer
//! 405 like any unknown path.

pub mod handlers;
pub mod store;
pub mod wire;

use axum::http::Method;

use crate::auth::rbac::Requirement;
use crate::kind::ObjectKind;

/// One Key Vault key operation, named by its swagger `operationId`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOperation {
    /// `GET /keys`.
    GetKeys,
    /// `POST /keys/{name}/create`.
    CreateKey(String),
    /// `PUT /keys/{name}`.
    ImportKey(String),
    /// `DELETE /keys/{name}`.
    DeleteKey(String),
    /// `GET /keys/{name}[/{version}]`; `None` = latest.
    GetKey(String, Option<String>),
    /// `PATCH /keys/{name}[/{version}]`; `None` = latest.
    UpdateKey(String, Option<String>),
    /// `GET /keys/{name}/versions`.
    GetKeyVersions(String),
    /// `GET /deletedkeys`.
    GetDeletedKeys,
    /// `GET /deletedkeys/{name}`.
    GetDeletedKey(String),
    /// `DELETE /deletedkeys/{name}`.
    PurgeDeletedKey(String),
    /// `POST /deletedkeys/{name}/recover`.
    RecoverDeletedKey(String),
}

impl KeyOperation {
    /// The operation for a method and path segments (as for secrets).
    #[must_use]
    pub fn classify(method: &Method, segments: &[&str]) -> Option<Self> {
        use KeyOperation as Op;
        let name = |s: &str| s.to_owned();
        let version = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let op = match (segments, method.as_str()) {
            (["keys"], "GET") => Op::GetKeys,
            (["keys", n], "PUT") => Op::ImportKey(name(n)),
            (["keys", n], "DELETE") => Op::DeleteKey(name(n)),
            (["keys", n], "GET") => Op::GetKey(name(n), None),
            (["keys", n], "PATCH") => Op::UpdateKey(name(n), None),
            (["keys", n, "create"], "POST") => Op::CreateKey(name(n)),
            (["keys", n, "versions"], "GET") => Op::GetKeyVersions(name(n)),
            (["keys", n, v], "GET") => Op::GetKey(name(n), version(v)),
            (["keys", n, v], "PATCH") => Op::UpdateKey(name(n), version(v)),
            (["deletedkeys"], "GET") => Op::GetDeletedKeys,
            (["deletedkeys", n], "GET") => Op::GetDeletedKey(name(n)),
            (["deletedkeys", n], "DELETE") => Op::PurgeDeletedKey(name(n)),
            (["deletedkeys", n, "recover"], "POST") => Op::RecoverDeletedKey(name(n)),
            _ => return None,
        };
        Some(op)
    }

    /// The swagger `operationId`.
    #[must_use]
    pub fn operation_id(&self) -> &'static str {
        use KeyOperation as Op;
        match self {
            Op::GetKeys => "GetKeys",
            Op::CreateKey(_) => "CreateKey",
            Op::ImportKey(_) => "ImportKey",
            Op::DeleteKey(_) => "DeleteKey",
            Op::GetKey(..) => "GetKey",
            Op::UpdateKey(..) => "UpdateKey",
            Op::GetKeyVersions(_) => "GetKeyVersions",
            Op::GetDeletedKeys => "GetDeletedKeys",
            Op::GetDeletedKey(_) => "GetDeletedKey",
            Op::PurgeDeletedKey(_) => "PurgeDeletedKey",
            Op::RecoverDeletedKey(_) => "RecoverDeletedKey",
        }
    }

    /// The object name in the path, if any.
    #[must_use]
    pub fn object(&self) -> Option<&str> {
        use KeyOperation as Op;
        match self {
            Op::GetKeys | Op::GetDeletedKeys => None,
            Op::CreateKey(n)
            | Op::ImportKey(n)
            | Op::DeleteKey(n)
            | Op::GetKey(n, _)
            | Op::UpdateKey(n, _)
            | Op::GetKeyVersions(n)
            | Op::GetDeletedKey(n)
            | Op::PurgeDeletedKey(n)
            | Op::RecoverDeletedKey(n) => Some(n),
        }
    }

    /// What the caller needs. Data actions from `built-in-roles/security.md` (Crypto
    /// Officer: `keys/*`; Crypto User: `keys/read`, ...). Reading deleted keys is mapped to
    /// `keys/read` (not documented).
    #[must_use]
    pub fn requirement(&self) -> Requirement {
        use KeyOperation as Op;
        let (action, permission) = match self {
            Op::GetKeys | Op::GetKeyVersions(_) | Op::GetDeletedKeys => {
                ("Microsoft.KeyVault/vaults/keys/read", "list")
            }
            Op::GetKey(..) | Op::GetDeletedKey(_) => ("Microsoft.KeyVault/vaults/keys/read", "get"),
            Op::CreateKey(_) => ("Microsoft.KeyVault/vaults/keys/create/action", "create"),
            Op::ImportKey(_) => ("Microsoft.KeyVault/vaults/keys/import/action", "import"),
            Op::DeleteKey(_) => ("Microsoft.KeyVault/vaults/keys/delete", "delete"),
            Op::UpdateKey(..) => ("Microsoft.KeyVault/vaults/keys/update/action", "update"),
            Op::PurgeDeletedKey(_) => ("Microsoft.KeyVault/vaults/keys/purge/action", "purge"),
            Op::RecoverDeletedKey(_) => {
                ("Microsoft.KeyVault/vaults/keys/recover/action", "recover")
            }
        };
        Requirement {
            kind: ObjectKind::Keys,
            action,
            permission,
            object: match self {
                Op::GetKeyVersions(_) => None,
                other => other.object().map(str::to_owned),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use KeyOperation as Op;

    #[test]
    fn create_versions_and_latest_are_told_apart() {
        assert_eq!(
            Op::classify(&Method::POST, &["keys", "k", "create"]),
            Some(Op::CreateKey("k".into()))
        );
        assert_eq!(
            Op::classify(&Method::GET, &["keys", "k", "versions"]),
            Some(Op::GetKeyVersions("k".into()))
        );
        assert_eq!(
            Op::classify(&Method::GET, &["keys", "k", ""]),
            Some(Op::GetKey("k".into(), None))
        );
        assert_eq!(Op::classify(&Method::POST, &["keys", "k", "backup"]), None);
    }
}
