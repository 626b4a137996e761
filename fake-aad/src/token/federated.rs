//! Federated credentials (workload identity): an external token exchanged for an Entra token.
//! Entra matches `iss` + `sub` + `aud` exactly against the app's or managed identity's
//! federated identity credentials, then checks the token's signature with the issuer's keys,
//! found through `{issuer}/.well-known/openid-configuration` → `jwks_uri`.
//! Source: MicrosoftDocs/entra-docs `workload-identity-federation.md`; error shapes from
//! Azure/azure-workload-identity `docs/book/src/troubleshooting.md`.

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::JwkSet;
use time::OffsetDateTime;

use super::client_assertion::{Unverified, check_validity, verify_signature};
use crate::directory::{Directory, FederatedCredential, TrustedIssuer};
use crate::error::AadError;
use crate::state::AppState;

/// Verifies a federated assertion against `credentials`.
pub async fn verify(
    state: &AppState,
    directory: &Directory,
    assertion: &str,
    unverified: &Unverified,
    credentials: &[FederatedCredential],
    now: OffsetDateTime,
) -> Result<(), AadError> {
    let matched = credentials.iter().any(|c| {
        c.issuer == unverified.issuer
            && c.subject == unverified.subject
            && unverified
                .audiences
                .iter()
                .any(|aud| c.audiences.iter().any(|a| a == aud))
    });
    if !matched {
        return Err(AadError::NoMatchingFederatedCredential {
            issuer: unverified.issuer.clone(),
            subject: unverified.subject.clone(),
            audience: unverified.audiences.first().cloned().unwrap_or_default(),
        });
    }
    check_validity(unverified, now)?;
    let keys = issuer_keys(
        state,
        directory.issuer(&unverified.issuer),
        &unverified.issuer,
    )
    .await?;
    let kid = unverified.header.kid.as_deref();
    let candidates = keys
        .keys
        .iter()
        .filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid);
    for jwk in candidates {
        if let Ok(key) = DecodingKey::from_jwk(jwk)
            && verify_signature(assertion, &unverified.header, &key).is_ok()
        {
            return Ok(());
        }
    }
    Err(AadError::AssertionSignatureInvalid)
}

async fn issuer_keys(
    state: &AppState,
    configured: Option<&TrustedIssuer>,
    issuer: &str,
) -> Result<JwkSet, AadError> {
    if let Some(inline) = configured.and_then(|c| c.keys.clone()) {
        return serde_json::from_value(inline).map_err(|_| AadError::ExternalOidcUnreachable);
    }
    let jwks_uri = if let Some(uri) = configured.and_then(|c| c.jwks_uri.clone()) {
        uri
    } else {
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let document: serde_json::Value = fetch_json(state, &discovery).await?;
        document
            .get("jwks_uri")
            .and_then(|v| v.as_str())
            .ok_or(AadError::ExternalOidcUnreachable)?
            .to_owned()
    };
    fetch_json(state, &jwks_uri).await
}

async fn fetch_json<T: serde::de::DeserializeOwned>(
    state: &AppState,
    url: &str,
) -> Result<T, AadError> {
    let response = state.http.get(url).send().await.map_err(|error| {
        tracing::warn!(%url, %error, "external OIDC fetch failed");
        AadError::ExternalOidcUnreachable
    })?;
    if !response.status().is_success() {
        tracing::warn!(%url, status = %response.status(), "external OIDC fetch refused");
        return Err(AadError::ExternalOidcUnreachable);
    }
    response
        .json()
        .await
        .map_err(|_| AadError::ExternalOidcUnreachable)
}
