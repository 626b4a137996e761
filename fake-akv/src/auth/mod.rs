//! Authentication and authorization, in Key Vault's order: a missing bearer token is a 401
//! challenge before anything about the request is looked at; a token is then verified
//! ([`token`]); the caller is then checked against the vault's role assignments or access
//! policies ([`rbac`]).

pub mod rbac;
pub mod roles;
pub mod token;

use axum::http::{HeaderMap, header};

use crate::error::{AkvError, Challenge};
use token::{CLOCK_SKEW_SECONDS, TokenClaims, TokenVerifier};

/// The authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// `oid`.
    pub oid: String,
    /// `appid` (or `azp`).
    pub appid: String,
    /// `iss`.
    pub iss: String,
}

impl Caller {
    /// As Key Vault prints the caller in 403 messages: `appid=…;oid=…;iss=…` (§3.4).
    #[must_use]
    pub fn describe(&self) -> String {
        format!("appid={};oid={};iss={}", self.appid, self.oid, self.iss)
    }
}

/// The bearer token of a request, if any.
#[must_use]
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// Authenticates a request to a vault of `tenant`.
pub async fn authenticate(
    headers: &HeaderMap,
    challenge: Challenge,
    verifier: &TokenVerifier,
    now: i64,
) -> Result<Caller, AkvError> {
    let Some(token) = bearer(headers) else {
        return Err(AkvError::MissingToken(challenge));
    };
    let claims = match verifier.verify(token).await {
        Ok(claims) => claims,
        Err(error) => {
            tracing::info!(%error, "token refused");
            return Err(AkvError::InvalidToken(challenge));
        }
    };
    check_claims(&claims, challenge, now)
}

/// Key Vault's checks on a verified token: issuer of the vault's tenant (v1 issuer only, as
/// AKV10032 lists only `sts.windows.net` issuers; `sts.chinacloudapi.cn` in Azure China),
/// audience (the Key Vault resource of the cloud the request came in on, with or without the
/// trailing slash the client may have asked for), then lifetime with clock skew.
pub fn check_claims(
    claims: &TokenClaims,
    challenge: Challenge,
    now: i64,
) -> Result<Caller, AkvError> {
    let expected = challenge.cloud.v1_issuer(challenge.tenant);
    if !claims.iss.eq_ignore_ascii_case(&expected) {
        return Err(AkvError::InvalidIssuer {
            challenge,
            expected,
            found: claims.iss.clone(),
        });
    }
    let audiences = claims.aud.values();
    if !audiences.iter().any(|aud| {
        aud.trim_end_matches('/')
            .eq_ignore_ascii_case(challenge.cloud.vault_resource())
    }) {
        return Err(AkvError::InvalidAudience {
            challenge,
            found: audiences.join(","),
        });
    }
    match claims.exp {
        Some(exp) if exp + CLOCK_SKEW_SECONDS > now => {}
        _ => return Err(AkvError::TokenExpired(challenge)),
    }
    if claims.nbf.is_some_and(|nbf| nbf - CLOCK_SKEW_SECONDS > now) {
        return Err(AkvError::InvalidToken(challenge));
    }
    Ok(Caller {
        oid: claims.oid.clone().unwrap_or_default(),
        appid: claims
            .appid
            .clone()
            .or_else(|| claims.azp.clone())
            .unwrap_or_default(),
        iss: claims.iss.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fake_kit::Cloud;
    use token::Audience;
    use uuid::Uuid;

    fn challenge() -> Challenge {
        Challenge::new(
            Cloud::Public,
            "https://login.microsoftonline.com",
            Uuid::from_u128(1),
        )
    }

    fn issuer(tenant: Uuid) -> String {
        Cloud::Public.v1_issuer(tenant)
    }

    fn claims() -> TokenClaims {
        TokenClaims {
            aud: Audience::One("https://vault.azure.net".into()),
            iss: issuer(Uuid::from_u128(1)),
            exp: Some(1_000),
            nbf: Some(0),
            oid: Some("o".into()),
            appid: Some("a".into()),
            azp: None,
        }
    }

    #[test]
    fn valid_claims_give_the_caller() {
        let caller = check_claims(&claims(), challenge(), 500).unwrap();
        assert_eq!(
            caller.describe(),
            "appid=a;oid=o;iss=https://sts.windows.net/00000000-0000-0000-0000-000000000001/"
        );
        let mut slash = claims();
        slash.aud = Audience::One("https://vault.azure.net/".into());
        assert!(check_claims(&slash, challenge(), 500).is_ok());
    }

    #[test]
    fn wrong_issuer_audience_and_expiry_are_refused() {
        let mut other = claims();
        other.iss = issuer(Uuid::from_u128(2));
        assert!(matches!(
            check_claims(&other, challenge(), 500),
            Err(AkvError::InvalidIssuer { .. })
        ));
        let mut arm = claims();
        arm.aud = Audience::One("https://management.azure.com/".into());
        assert!(matches!(
            check_claims(&arm, challenge(), 500),
            Err(AkvError::InvalidAudience { .. })
        ));
        assert!(check_claims(&claims(), challenge(), 1_000 + CLOCK_SKEW_SECONDS - 1).is_ok());
        assert!(matches!(
            check_claims(&claims(), challenge(), 1_000 + CLOCK_SKEW_SECONDS),
            Err(AkvError::TokenExpired(_))
        ));
    }

    #[test]
    fn sovereign_vaults_want_their_own_audience_and_issuer() {
        let gov = Challenge::new(
            Cloud::UsGovernment,
            "https://login.microsoftonline.com",
            Uuid::from_u128(1),
        );
        assert_eq!(gov.authority, "https://login.microsoftonline.us");
        // A public-cloud token is refused on a government vault...
        assert!(matches!(
            check_claims(&claims(), gov.clone(), 500),
            Err(AkvError::InvalidAudience { .. })
        ));
        // ...and the government one, issued by sts.windows.net like the public one, accepted.
        let mut usgov = claims();
        usgov.aud = Audience::One("https://vault.usgovcloudapi.net/".into());
        assert!(check_claims(&usgov, gov, 500).is_ok());
        // Azure China's v1 issuer is its own.
        let china = Challenge::new(Cloud::China, "", Uuid::from_u128(1));
        let mut cn = claims();
        cn.aud = Audience::One("https://vault.azure.cn".into());
        assert!(matches!(
            check_claims(&cn, china.clone(), 500),
            Err(AkvError::InvalidIssuer { .. })
        ));
        cn.iss = Cloud::China.v1_issuer(Uuid::from_u128(1));
        assert!(check_claims(&cn, china, 500).is_ok());
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "bearer abc".parse().unwrap());
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }
}
