//! One function per certificate operation: read the request, call the stores, shape the wire
//! body.
//!
//! A certificate write touches three stores (certificates, secrets, keys). They are locked one
//! at a time in that order, never two at once, so no lock order can deadlock with the secret
//! and key handlers.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::CertificateOperation;
use super::backup::CertificateBackup;
use super::store::{
    Certificate, CertificateMaterial, CertificateVersion, DeletedCertificate, IssuancePolicy,
    IssuanceRequest, Issued, issue_self_signed, policy_of, read_import,
};
use super::wire::{
    CertificateBundle, CertificateCreateParameters, CertificateImportParameters, CertificateItem,
    CertificateOperation as OperationBody, CertificatePolicy, CertificatePolicyIn,
    CertificateUpdateParameters, DeletedCertificateBundle, DeletedCertificateItem,
    IssuerParameters,
};
use crate::error::AkvError;
use crate::extract::json_body;
use crate::kind::ObjectKind;
use crate::kind_handlers::{self, Served};
use crate::reply;
use crate::request::RequestContext;
use crate::secrets::store::SecretValue;
use crate::secrets::wire::BackupBlob;
use crate::store::VersionOrder;
use crate::store::{NewVersion, Tags, VersionUpdate, new_version_id};
use crate::wire::Recovery;

/// Runs `operation`.
pub fn dispatch(
    cx: &RequestContext<'_>,
    operation: CertificateOperation,
    body: &[u8],
) -> Result<Response, AkvError> {
    use CertificateOperation as Op;
    match operation {
        Op::GetCertificates => kind_handlers::list::<CertificateMaterial>(cx),
        Op::CreateCertificate(name) => create_certificate(cx, &name, body),
        Op::ImportCertificate(name) => import_certificate(cx, &name, body),
        Op::GetCertificateOperation(name) => get_certificate_operation(cx, &name),
        Op::GetCertificatePolicy(name) => get_certificate_policy(cx, &name),
        Op::UpdateCertificatePolicy(name) => update_certificate_policy(cx, &name, body),
        Op::GetCertificateVersions(name) => {
            kind_handlers::versions::<CertificateMaterial>(cx, &name)
        }
        Op::DeleteCertificate(name) => kind_handlers::delete::<CertificateMaterial>(cx, &name),
        Op::GetCertificate(name, version) => get_certificate(cx, &name, version.as_deref()),
        Op::UpdateCertificate(name, version) => {
            update_certificate(cx, &name, version.as_deref(), body)
        }
        Op::BackupCertificate(name) => backup_certificate(cx, &name),
        Op::RestoreCertificate => restore_certificate(cx, body),
        Op::GetDeletedCertificates => kind_handlers::list_deleted::<CertificateMaterial>(cx),
        Op::GetDeletedCertificate(name) => {
            kind_handlers::get_deleted::<CertificateMaterial>(cx, &name)
        }
        Op::PurgeDeletedCertificate(name) => kind_handlers::purge::<CertificateMaterial>(cx, &name),
        Op::RecoverDeletedCertificate(name) => {
            kind_handlers::recover::<CertificateMaterial>(cx, &name)
        }
    }
}

fn bundle(
    cx: &RequestContext<'_>,
    name: &str,
    version: &CertificateVersion,
    with_policy: bool,
) -> Response {
    reply::ok(&CertificateBundle::from_domain(
        name,
        version,
        &cx.id_base(),
        cx.recovery(),
        with_policy,
    ))
}

/// What a create or import stores: the certificate and its managed key and secret.
struct NewCertificate {
    issued: Issued,
    policy: IssuancePolicy,
    request: Option<IssuanceRequest>,
    enabled: Option<bool>,
    tags: Option<Tags>,
}

/// A version of the certificate, its key or its secret: all carry the certificate's validity.
fn new_version<P>(
    payload: P,
    issued: &Issued,
    enabled: Option<bool>,
    tags: Option<&Tags>,
) -> NewVersion<P> {
    NewVersion {
        payload,
        tags: tags.cloned(),
        enabled,
        not_before: Some(issued.not_before),
        expires: Some(issued.expires),
    }
}

/// Stores a new version of certificate `name` with its managed key and secret, all under one
/// version id.
fn store_new(
    cx: &RequestContext<'_>,
    name: &str,
    new: NewCertificate,
) -> Result<(String, CertificateVersion), AkvError> {
    let version = new_version_id();
    let NewCertificate {
        issued,
        policy,
        request,
        enabled,
        tags,
    } = new;
    let secret = SecretValue {
        value: issued.secret_value(&policy.content_type, policy.exportable),
        content_type: Some(policy.content_type.clone()),
    };
    let stored = cx
        .vault
        .certificates()
        .set_version(
            name,
            version.clone(),
            new_version(
                CertificateMaterial {
                    cer: issued.chain[0].clone(),
                    policy,
                    request,
                },
                &issued,
                enabled,
                tags.as_ref(),
            ),
            cx.now,
        )
        .map_err(cx.refused(ObjectKind::Certificates))?;
    // The certificate's name was free (or its own), so its key's and secret's are too, unless
    // a plain secret or key of that name was soft-deleted: then Key Vault would have refused
    // the certificate, and the fake keeps the certificate without that part.
    let _: Result<_, _> = cx.vault.secrets().set_version(
        name,
        version.clone(),
        new_version(secret, &issued, enabled, tags.as_ref()),
        cx.now,
    );
    let _: Result<_, _> = cx.vault.keys().set_version(
        name,
        version,
        new_version(issued.jwk.clone(), &issued, enabled, tags.as_ref()),
        cx.now,
    );
    Ok(stored)
}

/// `CreateCertificate`: 202 with the operation, `Location` and `Retry-After` as Key Vault
/// answers (JS recording `recording_can_create_a_certificate.js`). The self-signed certificate
/// is issued before the answer, so the first poll of `/pending` reports `completed`.
pub fn create_certificate(
    cx: &RequestContext<'_>,
    name: &str,
    body: &[u8],
) -> Result<Response, AkvError> {
    let params: CertificateCreateParameters = json_body(body)?;
    let Some(policy) = params.policy else {
        // Unrecorded wording; the swagger marks nothing required but Key Vault needs a policy.
        return Err(AkvError::BadParameter(
            "The parameter 'policy' is required.".to_owned(),
        ));
    };
    let mut policy = policy.into_domain(cx.now);
    if policy.issuer.eq_ignore_ascii_case("Self") {
        "Self".clone_into(&mut policy.issuer);
    } else {
        // `Unknown` and named issuers leave a CSR pending for a merge or a CA; the fake only
        // self-signs.
        return Err(AkvError::BadParameter(format!(
            "Issuer '{}' is not supported by this emulator; only 'Self' issues certificates.",
            policy.issuer
        )));
    }
    if policy.subject.is_empty() && policy.dns_names.is_empty() {
        return Err(AkvError::BadParameter(
            "Subject or SubjectAlternativeNames must be specified.".to_owned(),
        ));
    }
    let (issued, csr) =
        issue_self_signed(&policy, cx.now).map_err(|e| AkvError::BadParameter(e.to_string()))?;
    let request = IssuanceRequest {
        request_id: new_version_id(),
        csr,
    };
    let (cert_name, _) = store_new(
        cx,
        name,
        NewCertificate {
            issued,
            policy,
            request: Some(request.clone()),
            enabled: params.attributes.and_then(|a| a.enabled),
            tags: params.tags,
        },
    )?;
    let body = operation_body(cx, &cert_name, "Self", &request, false);
    let mut response = reply::json(StatusCode::ACCEPTED, &body);
    let location = format!(
        "{}/certificates/{}/pending?api-version={}&request_id={}",
        cx.id_base(),
        cert_name,
        cx.api_version,
        request.request_id
    );
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
    Ok(response)
}

fn operation_body(
    cx: &RequestContext<'_>,
    name: &str,
    issuer: &str,
    request: &IssuanceRequest,
    completed: bool,
) -> OperationBody {
    use base64::Engine;
    let base = cx.id_base();
    OperationBody {
        id: format!("{base}/certificates/{name}/pending"),
        issuer: IssuerParameters {
            name: Some(issuer.to_owned()),
            cty: None,
        },
        csr: base64::engine::general_purpose::STANDARD.encode(&request.csr),
        cancellation_requested: false,
        status: if completed { "completed" } else { "inProgress" },
        status_details: (!completed).then_some(
            "Pending certificate created. Certificate request is in progress. This may take some time based on the issuer provider. Please check again later.",
        ),
        target: completed.then(|| format!("{base}/certificates/{name}")),
        request_id: request.request_id.clone(),
    }
}

/// `GetCertificateOperation`: the latest version's create operation, completed.
pub fn get_certificate_operation(
    cx: &RequestContext<'_>,
    name: &str,
) -> Result<Response, AkvError> {
    let (cert_name, latest) = cx
        .vault
        .certificates()
        .find(name, None)
        .map_err(|_| AkvError::PendingCertificateNotFound(name.to_owned()))?;
    let request = latest
        .payload
        .request
        .as_ref()
        .ok_or_else(|| AkvError::PendingCertificateNotFound(name.to_owned()))?;
    Ok(reply::ok(&operation_body(
        cx,
        &cert_name,
        &latest.payload.policy.issuer,
        request,
        true,
    )))
}

/// `ImportCertificate`: a base64 PFX, or PEM (base64 or plain); ESO's PushSecret sends only
/// `value` and `tags`. The backing secret's content type is the policy's
/// `secret_props.contentType`, else the format that arrived. Key Vault keeps the private key
/// and derives the policy from the certificate, issuer `Unknown`.
pub fn import_certificate(
    cx: &RequestContext<'_>,
    name: &str,
    body: &[u8],
) -> Result<Response, AkvError> {
    let params: CertificateImportParameters = json_body(body)?;
    let Some(value) = params.value else {
        // Unrecorded wording; the swagger marks `value` required.
        return Err(AkvError::BadParameter(
            "The parameter 'value' is required.".to_owned(),
        ));
    };
    let (issued, format) = read_import(&value, params.pwd.as_deref())
        .map_err(|e| AkvError::BadParameter(e.to_string()))?;
    if issued.key.is_none() {
        return Err(AkvError::PrivateKeyMissing);
    }
    let content_type = params
        .policy
        .as_ref()
        .and_then(|p| p.secret_props.as_ref())
        .and_then(|s| s.content_type.clone())
        .unwrap_or_else(|| format.content_type().to_owned());
    let derived = policy_of(&issued.chain[0], &content_type, cx.now)
        .map_err(|e| AkvError::BadParameter(e.to_string()))?;
    let policy = match params.policy {
        Some(requested) => requested.apply(derived),
        None => derived,
    };
    let (cert_name, version) = store_new(
        cx,
        name,
        NewCertificate {
            issued,
            policy,
            request: None,
            enabled: params.attributes.and_then(|a| a.enabled),
            tags: params.tags,
        },
    )?;
    Ok(bundle(cx, &cert_name, &version, true))
}

/// `GetCertificate`: latest (with its policy) or one version (without). Disabled versions are
/// still answered.
pub fn get_certificate(
    cx: &RequestContext<'_>,
    name: &str,
    version: Option<&str>,
) -> Result<Response, AkvError> {
    let (cert_name, found) = cx
        .vault
        .certificates()
        .find(name, version)
        .map_err(cx.refused(ObjectKind::Certificates))?;
    Ok(bundle(cx, &cert_name, &found, version.is_none()))
}

/// `UpdateCertificate`: attributes and tags of a version (the latest for an empty version),
/// mirrored onto its managed key and secret; a `policy` replaces the certificate's policy.
pub fn update_certificate(
    cx: &RequestContext<'_>,
    name: &str,
    version: Option<&str>,
    body: &[u8],
) -> Result<Response, AkvError> {
    let params: CertificateUpdateParameters = json_body(body)?;
    let enabled = params.attributes.as_ref().and_then(|a| a.enabled);
    let update = params
        .attributes
        .unwrap_or_default()
        .into_update(params.tags);
    let (cert_name, found) = cx
        .vault
        .certificates()
        .update(
            name,
            version,
            update,
            |material| {
                if let Some(policy) = params.policy {
                    material.policy = policy.apply(material.policy.clone());
                }
            },
            cx.now,
        )
        .map_err(cx.refused(ObjectKind::Certificates))?;
    if enabled.is_some() {
        let mirror = || VersionUpdate {
            enabled,
            ..VersionUpdate::default()
        };
        let v = Some(found.version.as_str());
        let _: Result<_, _> = cx.vault.secrets().update(name, v, mirror(), |_| {}, cx.now);
        let _: Result<_, _> = cx.vault.keys().update(name, v, mirror(), |_| {}, cx.now);
    }
    Ok(bundle(cx, &cert_name, &found, version.is_none()))
}

/// `GetCertificatePolicy`.
pub fn get_certificate_policy(cx: &RequestContext<'_>, name: &str) -> Result<Response, AkvError> {
    let (cert_name, latest) = cx
        .vault
        .certificates()
        .find(name, None)
        .map_err(cx.refused(ObjectKind::Certificates))?;
    Ok(reply::ok(&CertificatePolicy::from_domain(
        &cert_name,
        &latest.payload.policy,
        &cx.id_base(),
    )))
}

/// `UpdateCertificatePolicy`: the policy is kept on the latest version, so this also moves
/// that version's `updated` (Key Vault keeps the policy apart and leaves it alone).
pub fn update_certificate_policy(
    cx: &RequestContext<'_>,
    name: &str,
    body: &[u8],
) -> Result<Response, AkvError> {
    let params: CertificatePolicyIn = json_body(body)?;
    let now = cx.now;
    let (cert_name, latest) = cx
        .vault
        .certificates()
        .update(
            name,
            None,
            VersionUpdate::default(),
            |material| {
                let mut policy = params.apply(material.policy.clone());
                policy.updated = now;
                material.policy = policy;
            },
            now,
        )
        .map_err(cx.refused(ObjectKind::Certificates))?;
    Ok(reply::ok(&CertificatePolicy::from_domain(
        &cert_name,
        &latest.payload.policy,
        &cx.id_base(),
    )))
}

/// `BackupCertificate`: the certificate with its versions, its secret and its key.
pub fn backup_certificate(cx: &RequestContext<'_>, name: &str) -> Result<Response, AkvError> {
    let certificate = cx
        .vault
        .certificates()
        .object(name)
        .map_err(cx.refused(ObjectKind::Certificates))?;
    let backup = CertificateBackup {
        certificate,
        secret: cx.vault.secrets().object(name).ok(),
        key: cx.vault.keys().object(name).ok(),
    };
    Ok(reply::ok(&BackupBlob {
        value: Some(backup.seal(cx.state.backup_key())),
    }))
}

/// `RestoreCertificate`: answers the latest version with its policy.
pub fn restore_certificate(cx: &RequestContext<'_>, body: &[u8]) -> Result<Response, AkvError> {
    let params: BackupBlob = json_body(body)?;
    let Some(blob) = params.value else {
        return Err(AkvError::BadParameter(
            "The parameter 'value' is required.".to_owned(),
        ));
    };
    let backup = CertificateBackup::open(cx.state.backup_key(), &blob)
        .ok_or(AkvError::MalformedBackupBlob)?;
    let restored = cx
        .vault
        .certificates()
        .restore(backup.certificate, cx.now)
        .map_err(cx.refused(ObjectKind::Certificates))?;
    // The certificate's name was free, so its secret's and key's are, as in `store_new`.
    if let Some(secret) = backup.secret {
        let _: Result<_, _> = cx.vault.secrets().restore(secret, cx.now);
    }
    if let Some(key) = backup.key {
        let _: Result<_, _> = cx.vault.keys().restore(key, cx.now);
    }
    Ok(bundle(cx, &restored.name, restored.latest(), true))
}

impl Served for CertificateMaterial {
    const VERSION_ORDER: VersionOrder = VersionOrder::ByCreation;
    type Item = CertificateItem;
    type Deleted = DeletedCertificateBundle;
    type DeletedItem = DeletedCertificateItem;

    fn latest_item(object: &Certificate, base: &str, recovery: Recovery) -> CertificateItem {
        CertificateItem::latest(object, base, recovery)
    }

    fn version_item(
        name: &str,
        version: &CertificateVersion,
        base: &str,
        recovery: Recovery,
    ) -> CertificateItem {
        CertificateItem::version(name, version, base, recovery)
    }

    /// A certificate is never another certificate's: its items carry no mark.
    fn managed(item: CertificateItem, _managed: bool) -> CertificateItem {
        item
    }

    fn deleted(
        deleted: &DeletedCertificate,
        base: &str,
        recovery: Recovery,
    ) -> DeletedCertificateBundle {
        DeletedCertificateBundle::from_domain(deleted, base, recovery)
    }

    fn deleted_item(
        deleted: &DeletedCertificate,
        base: &str,
        recovery: Recovery,
    ) -> DeletedCertificateItem {
        DeletedCertificateItem::from_domain(deleted, base, recovery)
    }

    /// The certificate, its key and its secret are back; the answer carries the policy.
    fn recovered(cx: &RequestContext<'_>, cert: &Certificate) -> Response {
        bundle(cx, &cert.name, cert.latest(), true)
    }
}
