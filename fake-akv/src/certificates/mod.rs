//! Certificates: the route table for `/certificates` and `/deletedcertificates`
//! ([`CertificateOperation::classify`]), the handlers ([`handlers`]), the wire types
//! ([`wire`]), the domain and its crypto ([`store`]), the PFX format ([`pkcs12`]) and the
//! backup blob ([`backup`]).
//!
//! Create (self-signed, RSA or EC, completing at once), import (PFX or PEM), get, update, list,
//! versions, policy get/update, the create operation, delete, get/list deleted, recover, purge,
//! backup and restore. Each version also lives as a managed key and a managed secret of the
//! same name and version. Issuers, contacts, merge and cancellation answer 405 like any unknown
//! path.

pub mod backup;
pub mod handlers;
pub mod pkcs12;
pub mod store;
pub mod wire;

use axum::http::Method;

use crate::auth::rbac::Requirement;
use crate::kind::ObjectKind;

/// One Key Vault certificate operation, named by its swagger `operationId`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // The swagger's names, `GetCertificateOperation` among them.
pub enum CertificateOperation {
    /// `GET /certificates`.
    GetCertificates,
    /// `POST /certificates/{name}/create`.
    CreateCertificate(String),
    /// `POST /certificates/{name}/import`.
    ImportCertificate(String),
    /// `GET /certificates/{name}/pending`.
    GetCertificateOperation(String),
    /// `GET /certificates/{name}/policy`.
    GetCertificatePolicy(String),
    /// `PATCH /certificates/{name}/policy`.
    UpdateCertificatePolicy(String),
    /// `GET /certificates/{name}/versions`.
    GetCertificateVersions(String),
    /// `DELETE /certificates/{name}`.
    DeleteCertificate(String),
    /// `GET /certificates/{name}[/{version}]`; `None` = latest.
    GetCertificate(String, Option<String>),
    /// `PATCH /certificates/{name}[/{version}]`; `None` = latest.
    UpdateCertificate(String, Option<String>),
    /// `POST /certificates/{name}/backup`.
    BackupCertificate(String),
    /// `POST /certificates/restore`.
    RestoreCertificate,
    /// `GET /deletedcertificates`.
    GetDeletedCertificates,
    /// `GET /deletedcertificates/{name}`.
    GetDeletedCertificate(String),
    /// `DELETE /deletedcertificates/{name}`.
    PurgeDeletedCertificate(String),
    /// `POST /deletedcertificates/{name}/recover`.
    RecoverDeletedCertificate(String),
}

impl CertificateOperation {
    /// The operation for a method and path segments (as for secrets). Literal segments
    /// (`pending`, `policy`, `versions`) win over version ids.
    #[must_use]
    pub fn classify(method: &Method, segments: &[&str]) -> Option<Self> {
        use CertificateOperation as Op;
        let name = |s: &str| s.to_owned();
        let version = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let op = match (segments, method.as_str()) {
            (["certificates"], "GET") => Op::GetCertificates,
            (["certificates", "restore"], "POST") => Op::RestoreCertificate,
            (["certificates", n], "GET") => Op::GetCertificate(name(n), None),
            (["certificates", n], "PATCH") => Op::UpdateCertificate(name(n), None),
            (["certificates", n], "DELETE") => Op::DeleteCertificate(name(n)),
            (["certificates", n, "create"], "POST") => Op::CreateCertificate(name(n)),
            (["certificates", n, "import"], "POST") => Op::ImportCertificate(name(n)),
            (["certificates", n, "backup"], "POST") => Op::BackupCertificate(name(n)),
            (["certificates", n, "pending"], "GET") => Op::GetCertificateOperation(name(n)),
            (["certificates", n, "policy"], "GET") => Op::GetCertificatePolicy(name(n)),
            (["certificates", n, "policy"], "PATCH") => Op::UpdateCertificatePolicy(name(n)),
            (["certificates", n, "versions"], "GET") => Op::GetCertificateVersions(name(n)),
            (["certificates", n, v], "GET") => Op::GetCertificate(name(n), version(v)),
            (["certificates", n, v], "PATCH") => Op::UpdateCertificate(name(n), version(v)),
            (["deletedcertificates"], "GET") => Op::GetDeletedCertificates,
            (["deletedcertificates", n], "GET") => Op::GetDeletedCertificate(name(n)),
            (["deletedcertificates", n], "DELETE") => Op::PurgeDeletedCertificate(name(n)),
            (["deletedcertificates", n, "recover"], "POST") => {
                Op::RecoverDeletedCertificate(name(n))
            }
            _ => return None,
        };
        Some(op)
    }

    /// The swagger `operationId`.
    #[must_use]
    pub fn operation_id(&self) -> &'static str {
        use CertificateOperation as Op;
        match self {
            Op::GetCertificates => "GetCertificates",
            Op::CreateCertificate(_) => "CreateCertificate",
            Op::ImportCertificate(_) => "ImportCertificate",
            Op::GetCertificateOperation(_) => "GetCertificateOperation",
            Op::GetCertificatePolicy(_) => "GetCertificatePolicy",
            Op::UpdateCertificatePolicy(_) => "UpdateCertificatePolicy",
            Op::GetCertificateVersions(_) => "GetCertificateVersions",
            Op::DeleteCertificate(_) => "DeleteCertificate",
            Op::GetCertificate(..) => "GetCertificate",
            Op::UpdateCertificate(..) => "UpdateCertificate",
            Op::BackupCertificate(_) => "BackupCertificate",
            Op::RestoreCertificate => "RestoreCertificate",
            Op::GetDeletedCertificates => "GetDeletedCertificates",
            Op::GetDeletedCertificate(_) => "GetDeletedCertificate",
            Op::PurgeDeletedCertificate(_) => "PurgeDeletedCertificate",
            Op::RecoverDeletedCertificate(_) => "RecoverDeletedCertificate",
        }
    }

    /// The object name in the path, if any.
    #[must_use]
    pub fn object(&self) -> Option<&str> {
        use CertificateOperation as Op;
        match self {
            Op::GetCertificates | Op::GetDeletedCertificates | Op::RestoreCertificate => None,
            Op::CreateCertificate(n)
            | Op::ImportCertificate(n)
            | Op::BackupCertificate(n)
            | Op::GetCertificateOperation(n)
            | Op::GetCertificatePolicy(n)
            | Op::UpdateCertificatePolicy(n)
            | Op::GetCertificateVersions(n)
            | Op::DeleteCertificate(n)
            | Op::GetCertificate(n, _)
            | Op::UpdateCertificate(n, _)
            | Op::GetDeletedCertificate(n)
            | Op::PurgeDeletedCertificate(n)
            | Op::RecoverDeletedCertificate(n) => Some(n),
        }
    }

    /// What the caller needs. Data actions from MicrosoftDocs
    /// `role-based-access-control/built-in-roles/security.md` (Key Vault Certificates Officer:
    /// `certificates/*`; Key Vault Certificate User: `certificates/read`; Key Vault Reader:
    /// `vaults/*/read`) and the operation list of `permissions/security.md`
    /// (`certificates/create/action`, `import/action`, `update/action`, `delete`,
    /// `recover/action`, `purge/action`, `backup/action`, `restore/action`). Access-policy names from the `certificates`
    /// permission list of `key-vault/general/assign-access-policy.md`.
    #[must_use]
    pub fn requirement(&self) -> Requirement {
        use CertificateOperation as Op;
        let (action, permission) = match self {
            Op::GetCertificates | Op::GetCertificateVersions(_) | Op::GetDeletedCertificates => {
                ("Microsoft.KeyVault/vaults/certificates/read", "list")
            }
            Op::GetCertificate(..)
            | Op::GetCertificatePolicy(_)
            | Op::GetCertificateOperation(_)
            | Op::GetDeletedCertificate(_) => {
                ("Microsoft.KeyVault/vaults/certificates/read", "get")
            }
            Op::CreateCertificate(_) => (
                "Microsoft.KeyVault/vaults/certificates/create/action",
                "create",
            ),
            Op::ImportCertificate(_) => (
                "Microsoft.KeyVault/vaults/certificates/import/action",
                "import",
            ),
            Op::UpdateCertificate(..) | Op::UpdateCertificatePolicy(_) => (
                "Microsoft.KeyVault/vaults/certificates/update/action",
                "update",
            ),
            Op::DeleteCertificate(_) => ("Microsoft.KeyVault/vaults/certificates/delete", "delete"),
            Op::BackupCertificate(_) => (
                "Microsoft.KeyVault/vaults/certificates/backup/action",
                "backup",
            ),
            Op::RestoreCertificate => (
                "Microsoft.KeyVault/vaults/certificates/restore/action",
                "restore",
            ),
            Op::PurgeDeletedCertificate(_) => (
                "Microsoft.KeyVault/vaults/certificates/purge/action",
                "purge",
            ),
            Op::RecoverDeletedCertificate(_) => (
                "Microsoft.KeyVault/vaults/certificates/recover/action",
                "recover",
            ),
        };
        Requirement {
            kind: ObjectKind::Certificates,
            action,
            permission,
            object: match self {
                Op::GetCertificateVersions(_) => None,
                other => other.object().map(str::to_owned),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CertificateOperation as Op;

    #[test]
    fn literal_segments_win_over_versions() {
        assert_eq!(
            Op::classify(&Method::GET, &["certificates", "c", "pending"]),
            Some(Op::GetCertificateOperation("c".into()))
        );
        assert_eq!(
            Op::classify(&Method::PATCH, &["certificates", "c", "policy"]),
            Some(Op::UpdateCertificatePolicy("c".into()))
        );
        assert_eq!(
            Op::classify(&Method::GET, &["certificates", "c", ""]),
            Some(Op::GetCertificate("c".into(), None))
        );
        assert_eq!(
            Op::classify(&Method::POST, &["certificates", "restore"]),
            Some(Op::RestoreCertificate)
        );
        assert_eq!(
            Op::classify(&Method::POST, &["certificates", "c", "merge"]),
            None
        );
    }
}
