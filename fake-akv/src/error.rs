//! [`AkvError`]: every failure the fake answers with, and the single `IntoResponse` that picks
//! the status, writes the `KeyVaultError` body and adds `WWW-Authenticate` to 401s.
//!
//! Each variant's text is Key Vault's own where it was recorded; the doc comment on the variant
//! names the source (sections refer to `shared/reference/azure-wire-facts.md`). Variants marked
//! "unrecorded" use wording of our own for cases no Microsoft capture shows.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fake_kit::Cloud;
use uuid::Uuid;

use crate::kind::ObjectKind;
use crate::operations::OpError;
use crate::store::StoreError;
use crate::wire::{ErrorDetail, InnerError, KeyVaultError};

/// The link Key Vault appends to object-not-found messages.
const NOT_FOUND_HELP: &str = "https://go.microsoft.com/fwlink/?linkid=2125182";

/// Who the 401 challenge sends the client to, and for which resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// Authority base: the cloud's login host (`https://login.microsoftonline.us`), or for the
    /// global cloud `https://login.microsoftonline.com` unless configured otherwise.
    pub authority: String,
    /// The vault's tenant.
    pub tenant: Uuid,
    /// The cloud the request came in on: its Key Vault resource is the challenge's `resource`
    /// and the audience tokens must carry.
    pub cloud: Cloud,
}

impl Challenge {
    /// The challenge for a request to a vault of `tenant` in `cloud`. `public_authority` (the
    /// configured authority) applies to the global cloud only: a sovereign vault always names
    /// its own cloud's login host, as a real one does.
    #[must_use]
    pub fn new(cloud: Cloud, public_authority: &str, tenant: Uuid) -> Self {
        let authority = match cloud {
            Cloud::Public => public_authority.to_owned(),
            Cloud::UsGovernment | Cloud::China => format!("https://{}", cloud.authority_host()),
        };
        Self {
            authority,
            tenant,
            cloud,
        }
    }
}

/// An error the data plane answers with.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AkvError {
    /// 401 without a bearer token. Body (108 bytes) from the 2026 recordings, §2.6: Azure/azure-sdk-assets
    /// `python/.../test_secrets_client.pyTestSecretClienttest_secret_crud_operations[2025-07-01].json`.
    #[error("AKV10000: Request is missing a Bearer, PoP, or MTLS_POP token.")]
    MissingToken(Challenge),
    /// 401 for a token from another tenant. Azure/azure-sdk-for-net `sdk/keyvault/TROUBLESHOOTING.md`.
    #[error("AKV10032: Invalid issuer. Expected one of {expected}, found {found}.")]
    InvalidIssuer {
        /// The challenge.
        challenge: Challenge,
        /// `https://sts.windows.net/{tid}/`.
        expected: String,
        /// The token's `iss`.
        found: String,
    },
    /// 401 for a token minted for another resource (3P captures, §3.1); `Expected` names the
    /// Key Vault resource of the request's cloud.
    #[error("AKV10022: Invalid audience. Expected {}, found: {found}.", challenge.cloud.vault_resource())]
    InvalidAudience {
        /// The challenge.
        challenge: Challenge,
        /// The token's `aud`.
        found: String,
    },
    /// 401 for an expired token. microsoft/confidential-sidecar-containers docs (§3.1).
    #[error("[TokenExpired] Error validating token: 'S2S12086'.")]
    TokenExpired(Challenge),
    /// 401 for a token that does not validate at all (garbage, bad signature, unknown key, not
    /// yet valid). Same capture as [`AkvError::TokenExpired`], without the prefix.
    #[error("Error validating token: 'S2S12086'.")]
    InvalidToken(Challenge),
    /// 403 on an RBAC vault. Shape §3.4 (many captures; e.g. Azure/azure-sdk-for-net issues).
    #[error(
        "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: {caller}\r\nAction: '{action}'\r\nResource: '{resource}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: {vault};location={location}\r\n"
    )]
    ForbiddenByRbac {
        /// `appid=…;oid=…;iss=…`.
        caller: String,
        /// The data action, e.g. `Microsoft.KeyVault/vaults/secrets/getSecret/action`.
        action: String,
        /// ARM id of the vault or object, lower-case provider segment as recorded.
        resource: String,
        /// Vault name.
        vault: String,
        /// Vault location.
        location: String,
    },
    /// 403 on an access-policy vault. Message from the Container Apps doc capture (§3.4);
    /// innererror `ForbiddenByPolicy` as in Azure/azure-sdk-for-net
    /// `sdk/keyvault/Azure.Security.KeyVault.Certificates/tests/CertificateClientTests.cs`.
    #[error(
        "The user, group or application '{caller}' does not have {kind} {permission} permission on key vault '{vault};location={location}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287"
    )]
    ForbiddenByPolicy {
        /// `appid=…;oid=…;iss=…`.
        caller: String,
        /// `secrets`, `keys` or `certificates`.
        kind: &'static str,
        /// `get`, `list`, `set`, ...
        permission: &'static str,
        /// Vault name.
        vault: String,
        /// Vault location.
        location: String,
    },
    /// 403 GET of a disabled secret. azure-sdk-for-js `recording_cant_get_a_disabled_secret.js` (§2.6).
    #[error("Operation get is not allowed on a disabled secret.")]
    SecretDisabled,
    /// 403 reading a deleted secret whose latest version is disabled. azure-sdk-for-js
    /// `recording_cant_get_a_disabled_secret.js` (commit `16c6b045a140`, §2.6).
    #[error("Operation get is not permitted on this object.")]
    AccessDenied,
    /// 403 purge on a vault with purge protection. Unrecorded wording.
    #[error(
        "Operation \"purge\" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed."
    )]
    PurgeProtected,
    /// 400 for a bad request parameter or body. Code recorded (§3.5); messages unrecorded.
    #[error("{0}")]
    BadParameter(String),
    /// 400 for an object name outside `^[0-9a-zA-Z-]{1,127}$` (3P captures, §3.5).
    #[error("The request URI contains an invalid name: {0}")]
    InvalidName(String),
    /// 400 restoring garbage. Azure/azure-sdk-assets `net/.../RestoreMalformedBackup.json` (§2.6).
    #[error("Backup blob is corrupt.")]
    MalformedBackupBlob,
    /// 404 for a missing secret (or `name/version`). .NET and Python recordings (§2.6).
    #[error(
        "A secret with (name/id) {0} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see {NOT_FOUND_HELP}"
    )]
    SecretNotFound(String),
    /// 404 for a missing key, worded as for secrets (by analogy; unrecorded for keys here).
    #[error(
        "A key with (name/id) {0} was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see {NOT_FOUND_HELP}"
    )]
    KeyNotFound(String),
    /// 404 for a missing certificate, worded as for secrets (by analogy; the JS recording
    /// `recording_can_get_a_certificate_non_existing.js` has code `CertificateNotFound`).
    #[error(
        "A certificate with (name/id) {0} was not found in this key vault. If you recently deleted this certificate you may be able to recover it using the correct recovery command. For help resolving this issue, please see {NOT_FOUND_HELP}"
    )]
    CertificateNotFound(String),
    /// 404 `GET /certificates/{name}/pending` for a certificate that was imported, not
    /// created. Unrecorded wording.
    #[error("Pending certificate not found: {0}")]
    PendingCertificateNotFound(String),
    /// 400 importing a certificate without its private key. Unrecorded wording.
    #[error(
        "Private key is not specified in the specified X.509 certificate content. Please specify private key in the X.509 certificate content."
    )]
    PrivateKeyMissing,
    /// 403 writing or deleting a certificate's managed secret or key directly. Body from the
    /// 403 quoted in hashicorp/terraform-provider-azurerm#5659 (SetSecret on a certificate's
    /// secret): message `Operation "set" is not allowed as this object's lifetime is managed by
    /// Key Vault.`, innererror `SecretManagedByKeyVault`; keys and other operations by analogy.
    #[error(
        "Operation \"{operation}\" is not allowed as this object's lifetime is managed by Key Vault."
    )]
    ManagedByKeyVault {
        /// `set`, `delete`, `import`, `create`.
        operation: &'static str,
        /// Secrets or keys.
        kind: ObjectKind,
    },
    /// 404 when no vault answers to the request's host. Real DNS would fail instead; unrecorded.
    #[error("No vault answers to host '{0}'.")]
    VaultNotFound(String),
    /// 405 for a method and path Key Vault has no operation for. JS 2022 recording
    /// `recording_cannot_create_a_secret_with_an_empty_name.js` (§2.6).
    #[error("HTTP {0} not allowed")]
    MethodNotAllowed(String),
    /// 409 creating over a soft-deleted object. Azure/azure-sdk-for-net
    /// `Sample4_ErrorResponse.cs` (secrets) and Azure/azure-sdk-for-cpp
    /// `key_client_delete_test_live.cpp` (keys) (§3.3).
    #[error(
        "{capitalized} {name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the {noun} can only be recovered or purged."
    )]
    ObjectIsDeletedButRecoverable {
        /// `Secret` or `Key`.
        capitalized: &'static str,
        /// `secret` or `key`.
        noun: &'static str,
        /// The name.
        name: String,
    },
    /// 404 reading a deleted object whose deletion has not settled. Secrets: Azure/azure-sdk-assets
    /// `python/sdk/keyvault/azure-keyvault-secrets/tests/recordings/test_secrets_client.pyTestSecretClienttest_backup_restore[7.6].json`
    /// (commit `05a26dd08a0d`); keys (code `KeyNotFound`): Azure/azure-sdk-for-js
    /// `sdk/keyvault/keyvault-keys/recordings/node/keys_client__restore_keys_and_recover_backups/recording_can_recover_a_deleted_key.js`
    /// (commit `0e556a48ca9d`).
    #[error("Deleted {capitalized} not found: {name}")]
    DeletedObjectNotFound {
        /// What kind of object.
        kind: ObjectKind,
        /// `Secret`, `Key` or `Certificate`.
        capitalized: &'static str,
        /// The name.
        name: String,
    },
    /// 409 purging (or recovering, unrecorded) an object whose deletion has not settled. Keys
    /// recorded in Azure/azure-sdk-for-js
    /// `sdk/keyvault/keyvault-keys/recordings/node/keys_client__create_read_update_and_delete_operations/recording_before_all_hook.js`
    /// (commit `1388171474cc`, Aug 2019: 409, then 204 eleven seconds later); the secret wording is the one azure-sdk-for-js retries on in
    /// `sdk/keyvault/keyvault-secrets/test/utils/testClient.ts` (commit `7f1d02300d17`).
    #[error("{capitalized} is currently being deleted.")]
    ObjectIsBeingDeleted {
        /// `Secret`, `Key` or `Certificate`.
        capitalized: &'static str,
    },
    /// 409 creating a name whose deletion has not settled. Keys: Azure/azure-sdk-for-cpp
    /// `sdk/keyvault/azure-security-keyvault-keys/test/ut/key_client_delete_test_live.cpp`
    /// (§3.3); the secret wording is by analogy.
    #[error(
        "{capitalized} {name} is currently being deleted and cannot be re-created; retry later."
    )]
    ObjectIsBeingDeletedOnCreate {
        /// `Secret`, `Key` or `Certificate`.
        capitalized: &'static str,
        /// The name.
        name: String,
    },
    /// 409 restoring over an existing name. Python 7.6 `test_backup_restore` recording (§2.6).
    #[error(
        "There was a conflict restoring the secret '{0}'. This can happen if either: a second secret with the same name was created after the first secret was deleted; thus trying to restore a secret whose name is already in use. To fix this, rename the second secret to something else so that the restore works. The second probable cause of this exception is when multiple operations are performed in parallel against the secret. To avoid this error, perform operations against a secret in a sequential manner."
    )]
    RestoreConflict(String),
    /// 429. Body from vcsjones/AzureSignTool#219 (3P, full header dump, §2.6).
    #[error(
        "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached"
    )]
    Throttled {
        /// Seconds for `Retry-After`; the captured 429 had none.
        retry_after: Option<u32>,
    },
    /// An injected failure with an arbitrary status (fault hook).
    #[error("Injected fault.")]
    Injected(StatusCode),
    /// 500: a bug in the fake. Detail is logged, never sent.
    #[error("An internal error occurred.")]
    Internal(String),
}

impl AkvError {
    /// (status, code, innererror code).
    #[must_use]
    pub fn parts(&self) -> (StatusCode, &'static str, Option<&'static str>) {
        use AkvError as E;
        use StatusCode as S;
        match self {
            E::MissingToken(_)
            | E::InvalidIssuer { .. }
            | E::InvalidAudience { .. }
            | E::TokenExpired(_)
            | E::InvalidToken(_) => (S::UNAUTHORIZED, "Unauthorized", None),
            E::ForbiddenByRbac { .. } => (S::FORBIDDEN, "Forbidden", Some("ForbiddenByRbac")),
            E::ForbiddenByPolicy { .. } => (S::FORBIDDEN, "Forbidden", Some("ForbiddenByPolicy")),
            E::SecretDisabled => (S::FORBIDDEN, "Forbidden", Some("SecretDisabled")),
            E::AccessDenied => (S::FORBIDDEN, "Forbidden", Some("AccessDenied")),
            E::PurgeProtected => (S::FORBIDDEN, "Forbidden", None),
            E::BadParameter(_) | E::InvalidName(_) | E::PrivateKeyMissing => {
                (S::BAD_REQUEST, "BadParameter", None)
            }
            E::MalformedBackupBlob => (S::BAD_REQUEST, "Malformed backup blob", None),
            E::SecretNotFound(_) => (S::NOT_FOUND, "SecretNotFound", None),
            E::KeyNotFound(_) => (S::NOT_FOUND, "KeyNotFound", None),
            E::CertificateNotFound(_) => (S::NOT_FOUND, "CertificateNotFound", None),
            E::PendingCertificateNotFound(_) => (S::NOT_FOUND, "PendingCertificateNotFound", None),
            E::ManagedByKeyVault { kind, .. } => (
                S::FORBIDDEN,
                "Forbidden",
                Some(match kind {
                    ObjectKind::Keys => "KeyManagedByKeyVault",
                    ObjectKind::Secrets | ObjectKind::Certificates => "SecretManagedByKeyVault",
                }),
            ),
            E::VaultNotFound(_) => (S::NOT_FOUND, "VaultNotFound", None),
            E::MethodNotAllowed(_) => (S::METHOD_NOT_ALLOWED, "MethodNotAllowed", None),
            E::ObjectIsDeletedButRecoverable { .. } => (
                S::CONFLICT,
                "Conflict",
                Some("ObjectIsDeletedButRecoverable"),
            ),
            E::RestoreConflict(_) => (S::CONFLICT, "Conflict", None),
            E::DeletedObjectNotFound { kind, .. } => (S::NOT_FOUND, not_found_code(*kind), None),
            E::ObjectIsBeingDeleted { .. } | E::ObjectIsBeingDeletedOnCreate { .. } => {
                (S::CONFLICT, "Conflict", Some("ObjectIsBeingDeleted"))
            }
            E::Throttled { .. } => (S::TOO_MANY_REQUESTS, "Throttled", None),
            E::Injected(status) => (*status, injected_code(*status), None),
            E::Internal(_) => (S::INTERNAL_SERVER_ERROR, "InternalServerError", None),
        }
    }

    /// The wire body.
    #[must_use]
    pub fn body(&self) -> KeyVaultError {
        let (_, code, inner) = self.parts();
        KeyVaultError {
            error: ErrorDetail {
                code: code.to_owned(),
                message: self.to_string(),
                innererror: inner.map(|code| InnerError {
                    code: code.to_owned(),
                }),
            },
        }
    }

    fn challenge(&self) -> Option<&Challenge> {
        match self {
            AkvError::MissingToken(c)
            | AkvError::TokenExpired(c)
            | AkvError::InvalidToken(c)
            | AkvError::InvalidIssuer { challenge: c, .. }
            | AkvError::InvalidAudience { challenge: c, .. } => Some(c),
            _ => None,
        }
    }

    /// Maps a refused operation to its wire error; `base` is the vault URL for ids in
    /// messages. The `/_emulator` routes answer with the same status.
    #[must_use]
    pub fn from_op(error: OpError, base: &str, kind: ObjectKind) -> Self {
        match error {
            OpError::Store(e) => Self::from_store(e, base, kind),
            OpError::Managed {
                operation, kind, ..
            } => AkvError::ManagedByKeyVault { operation, kind },
            OpError::BadParameter(message) => AkvError::BadParameter(message),
            OpError::InvalidName(name) => AkvError::InvalidName(name),
        }
    }

    /// Maps a store error to its wire error; `base` is the vault URL for ids in messages.
    #[must_use]
    pub fn from_store(error: StoreError, base: &str, kind: ObjectKind) -> Self {
        let capitalized = match kind {
            ObjectKind::Secrets => "Secret",
            ObjectKind::Keys => "Key",
            ObjectKind::Certificates => "Certificate",
        };
        match error {
            StoreError::NotFound { name, version } => {
                let id = match version {
                    Some(version) => format!("{name}/{version}"),
                    None => name,
                };
                match kind {
                    ObjectKind::Keys => AkvError::KeyNotFound(id),
                    ObjectKind::Secrets => AkvError::SecretNotFound(id),
                    ObjectKind::Certificates => AkvError::CertificateNotFound(id),
                }
            }
            StoreError::Disabled => AkvError::SecretDisabled,
            StoreError::DeletedButRecoverable { name } => AkvError::ObjectIsDeletedButRecoverable {
                capitalized,
                noun: kind.noun(),
                name,
            },
            StoreError::DeletionInProgress { name } => AkvError::DeletedObjectNotFound {
                kind,
                capitalized,
                name,
            },
            StoreError::BeingDeleted { .. } => AkvError::ObjectIsBeingDeleted { capitalized },
            StoreError::RecreateWhileBeingDeleted { name } => {
                AkvError::ObjectIsBeingDeletedOnCreate { capitalized, name }
            }
            StoreError::RestoreConflict { name, version } => {
                AkvError::RestoreConflict(format!("{base}/secrets/{name}/{version}"))
            }
            StoreError::PurgeProtected => AkvError::PurgeProtected,
        }
    }
}

fn not_found_code(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Secrets => "SecretNotFound",
        ObjectKind::Keys => "KeyNotFound",
        ObjectKind::Certificates => "CertificateNotFound",
    }
}

fn injected_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "BadParameter",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        429 => "Throttled",
        503 => "ServiceUnavailable",
        _ => "InternalServerError",
    }
}

/// Internal detail of a 500, carried to the access log as a response extension.
#[derive(Clone, Debug)]
pub struct InternalDetail(pub String);

impl IntoResponse for AkvError {
    fn into_response(self) -> Response {
        let (status, _, _) = self.parts();
        let mut response = crate::reply::json(status, &self.body());
        let headers = response.headers_mut();
        if let Some(challenge) = self.challenge() {
            // Header value as recorded 2024-2026 (§3.1), with the cloud's resource.
            let value = format!(
                "Bearer authorization=\"{}/{}\", resource=\"{}\"",
                challenge.authority.trim_end_matches('/'),
                challenge.tenant,
                challenge.cloud.vault_resource()
            );
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
        }
        if let AkvError::Throttled {
            retry_after: Some(seconds),
        } = &self
        {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(*seconds));
        }
        if let AkvError::Internal(detail) = self {
            response.extensions_mut().insert(InternalDetail(detail));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_token_body_matches_the_2026_recording() {
        let error = AkvError::MissingToken(Challenge::new(
            Cloud::Public,
            "https://login.microsoftonline.com",
            Uuid::nil(),
        ));
        let body = serde_json::to_string(&error.body()).expect("serialises");
        assert_eq!(
            body,
            r#"{"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer, PoP, or MTLS_POP token."}}"#
        );
        assert_eq!(body.len(), 108);
    }

    #[test]
    fn not_found_body_has_the_recorded_length() {
        // 306 bytes for a 9-character name (§2.6).
        let body = serde_json::to_string(&AkvError::SecretNotFound("abcdefghi".into()).body())
            .expect("serialises");
        assert_eq!(body.len(), 306);
    }
}
