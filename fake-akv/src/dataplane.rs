//! The pipeline every Key Vault request goes through, in Key Vault's order:
//! vault by host → injected faults → authentication (401 challenge before anything else is
//! looked at, §2.4) → route → name check → service limits (opt in, [`crate::limits`]) →
//! `api-version` check → authorization → handler → audit.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::audit::AuditEntry;
use crate::auth::rbac::Requirement;
use crate::auth::{self, rbac};
use crate::certificates::{self, CertificateOperation};
use crate::error::{AkvError, Challenge};
use crate::extract::{self, RequestHost};
use crate::keys::{self, KeyOperation};
use crate::limits::{Cost, KeyProfile};
use crate::request::RequestContext;
use crate::secrets::{self, SecretOperation};
use crate::state::{AppState, Vault};
use crate::vault::valid_object_name;

/// A routed data-plane operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    /// A secret operation.
    Secret(SecretOperation),
    /// A key operation.
    Key(KeyOperation),
    /// A certificate operation.
    Certificate(CertificateOperation),
}

impl Operation {
    /// Routes a method and path segments; `None` answers 405.
    #[must_use]
    pub fn classify(method: &Method, segments: &[&str]) -> Option<Self> {
        SecretOperation::classify(method, segments)
            .map(Operation::Secret)
            .or_else(|| KeyOperation::classify(method, segments).map(Operation::Key))
            .or_else(|| {
                CertificateOperation::classify(method, segments).map(Operation::Certificate)
            })
    }

    /// The swagger `operationId`.
    #[must_use]
    pub fn operation_id(&self) -> &'static str {
        match self {
            Operation::Secret(op) => op.operation_id(),
            Operation::Key(op) => op.operation_id(),
            Operation::Certificate(op) => op.operation_id(),
        }
    }

    /// The object name in the path.
    #[must_use]
    pub fn object(&self) -> Option<&str> {
        match self {
            Operation::Secret(op) => op.object(),
            Operation::Key(op) => op.object(),
            Operation::Certificate(op) => op.object(),
        }
    }

    /// What the caller needs.
    #[must_use]
    pub fn requirement(&self) -> Requirement {
        match self {
            Operation::Secret(op) => op.requirement(),
            Operation::Key(op) => op.requirement(),
            Operation::Certificate(op) => op.requirement(),
        }
    }
}

/// What `operation` costs of the vault's service-limit budgets ([`crate::limits`]): a key
/// operation is weighted by its key's type (from the request for a create or import, else the
/// stored key's latest version).
fn cost(operation: &Operation, vault: &Vault, body: &[u8]) -> Cost {
    let json = || serde_json::from_slice::<serde_json::Value>(body).unwrap_or_default();
    let bits_of = |n: &str| u32::try_from(n.len() * 3 / 4 * 8).ok();
    match operation {
        Operation::Secret(op) => Cost {
            transactions: 1,
            creates: u32::from(matches!(op, SecretOperation::SetSecret(_))),
            ..Cost::default()
        },
        Operation::Certificate(op) => Cost {
            transactions: 1,
            creates: u32::from(matches!(op, CertificateOperation::ImportCertificate(_))),
            ..Cost::default()
        },
        Operation::Key(KeyOperation::CreateKey(_)) => {
            let json = json();
            let kty = json["kty"].as_str().unwrap_or("RSA");
            let bits = json["key_size"]
                .as_u64()
                .and_then(|b| u32::try_from(b).ok());
            Cost {
                key_creates: KeyProfile::new(kty, bits).create_weight(),
                ..Cost::default()
            }
        }
        Operation::Key(KeyOperation::ImportKey(_)) => {
            let json = json();
            let key = &json["key"];
            let kty = key["kty"].as_str().unwrap_or("RSA");
            let mut profile = KeyProfile::new(kty, key["n"].as_str().and_then(bits_of));
            profile.hsm |= json["hsm"].as_bool().unwrap_or(false);
            Cost {
                creates: 1,
                key_transactions: profile.transaction_weight(),
                ..Cost::default()
            }
        }
        Operation::Key(op) => {
            let stored = op
                .object()
                .and_then(|name| vault.keys().find(name, None).ok())
                .map(|(_, version)| version.payload);
            let profile = stored.map_or_else(KeyProfile::default, |key| {
                KeyProfile::new(&key.kty, key.n.as_deref().and_then(bits_of))
            });
            Cost {
                key_transactions: profile.transaction_weight(),
                ..Cost::default()
            }
        }
    }
}

/// The path's segments as the service behind HTTP.sys sees them: `.` and `..` (also
/// percent-encoded) resolved as RFC 3986 §5.2.4 removes dot segments, which HTTP.sys does
/// before routing ("URL canonicalization", learn.microsoft.com/windows/win32/http/
/// url-canonicalization-in-http-server-api); a trailing slash dropped.
#[must_use]
pub fn segments(path: &str) -> Vec<&str> {
    let is = |segment: &str, dots: &[&str]| dots.iter().any(|d| segment.eq_ignore_ascii_case(d));
    let mut out: Vec<&str> = Vec::new();
    let raw: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let last = raw.len() - 1;
    for (i, segment) in raw.into_iter().enumerate() {
        if is(segment, &[".", "%2e"]) {
            continue;
        }
        if is(segment, &["..", ".%2e", "%2e.", "%2e%2e"]) {
            out.pop();
            continue;
        }
        if segment.is_empty() && i == last && !out.is_empty() {
            continue;
        }
        out.push(segment);
    }
    if out.is_empty() {
        out.push("");
    }
    out
}

/// The largest request body read. Key Vault's limit and wording for an oversized body are
/// unrecorded; its largest documented payloads (a 25 KB secret value, a certificate to import)
/// are far below this, and the answer is the 400 `BadParameter` an oversized value gets.
const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The fallback handler serving every data-plane path.
pub async fn handle(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut audit = AuditEntry {
        seq: 0,
        time: state.clock().unix(),
        vault: String::new(),
        caller_oid: None,
        caller_appid: None,
        method: method.to_string(),
        operation: String::new(),
        object_name: None,
        status: 0,
    };
    let mut region = None;
    let mut response = match pipeline(
        &state,
        &method,
        &uri,
        &headers,
        body,
        &mut audit,
        &mut region,
    )
    .await
    {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    // `x-ms-keyvault-region` is on every vault's response (§2.3), errors included.
    if let Some(region) = region.and_then(|r| HeaderValue::from_str(&r).ok()) {
        response
            .headers_mut()
            .insert("x-ms-keyvault-region", region);
    }
    audit.status = response.status().as_u16();
    state.audit().record(audit);
    response
}

async fn pipeline(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    audit: &mut AuditEntry,
    region: &mut Option<String>,
) -> Result<Response, AkvError> {
    let host = RequestHost::from_request(uri, headers)
        .ok_or_else(|| AkvError::VaultNotFound(String::new()))?;
    let named = host.vault_label().and_then(|label| state.vault(label));
    let vault = if host.names_a_vault() {
        named
    } else {
        named.or_else(|| state.default_vault().and_then(|name| state.vault(&name)))
    }
    .ok_or_else(|| AkvError::VaultNotFound(host.host.clone()))?;
    let spec = vault.spec();
    audit.vault.clone_from(&spec.name);
    *region = Some(spec.location.clone());

    // Routing is a pure parse of the path, done before faults and auth so that every audit
    // entry (an injected 429, a 401 challenge) names the operation and object it was for.
    let operation = Operation::classify(method, &segments(uri.path()));
    if let Some(operation) = &operation {
        operation.operation_id().clone_into(&mut audit.operation);
        audit.object_name = operation.object().map(str::to_owned);
    }

    if let Some((status, retry_after)) = state.take_fault() {
        return Err(if status == StatusCode::TOO_MANY_REQUESTS {
            AkvError::Throttled { retry_after }
        } else {
            AkvError::Injected(status)
        });
    }

    let challenge = Challenge::new(
        host.cloud(),
        &state.settings().challenge_authority,
        spec.tenant_id,
    );
    let verifier = state.verifier();
    let caller = auth::authenticate(headers, challenge, &verifier, state.clock().unix()).await?;
    audit.caller_oid = Some(caller.oid.clone());
    audit.caller_appid = Some(caller.appid.clone());

    // Read only now: a client's first call, with or without a body, gets the challenge
    // before anything about the body is looked at (§3.1).
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            AkvError::BadParameter(format!(
                "The request body is larger than the {MAX_BODY_BYTES} bytes accepted."
            ))
        })?;
    let operation = operation.ok_or_else(|| AkvError::MethodNotAllowed(method.to_string()))?;
    if let Some(name) = operation.object()
        && !valid_object_name(name)
    {
        return Err(AkvError::InvalidName(name.to_owned()));
    }

    let charged = vault.charge(|| cost(&operation, &vault, &body), state.clock().unix());
    if let Err((left, say)) = charged {
        return Err(AkvError::Throttled {
            retry_after: say.then_some(left),
        });
    }

    let query: BTreeMap<String, String> =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    let api_version = extract::api_version(query.get("api-version").map(String::as_str))?;
    let assignment = rbac::authorize(&spec, &caller, &operation.requirement())?;

    let now = state.clock().unix();
    vault.sweep(now);
    let cx = RequestContext {
        state,
        vault: &vault,
        host: &host,
        api_version: &api_version,
        query: &query,
        now,
    };
    let mut response = match operation {
        Operation::Secret(op) => secrets::handlers::dispatch(&cx, op, &body)?,
        Operation::Key(op) => keys::handlers::dispatch(&cx, op, &body)?,
        Operation::Certificate(op) => certificates::handlers::dispatch(&cx, op, &body)?,
    };
    if let Some(id) = assignment {
        // Sent after successful RBAC authorization (§2.3).
        if let Ok(value) = HeaderValue::from_str(&id.simple().to_string()) {
            response
                .headers_mut()
                .insert("x-ms-keyvault-rbac-assignment-id", value);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::segments;

    #[test]
    fn dot_segments_resolve_as_http_sys_resolves_them() {
        assert_eq!(segments("/secrets/a/"), ["secrets", "a"]);
        assert_eq!(segments("/secrets/a/../b"), ["secrets", "b"]);
        assert_eq!(segments("/secrets/a/%2E%2e/b"), ["secrets", "b"]);
        assert_eq!(segments("/secrets/./b/."), ["secrets", "b"]);
        assert_eq!(segments("/../../secrets"), ["secrets"]);
        assert_eq!(segments("/"), [""]);
        assert_eq!(segments("/secrets/a%2F..%2Fb"), ["secrets", "a%2F..%2Fb"]);
    }
}
