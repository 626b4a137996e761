//! Access-token claims. Key Vault and the other Azure resources accept v1 tokens (`ver` 1.0,
//! `iss` `https://sts.windows.net/{tid}/`, or the sovereign cloud's v1 issuer) whichever endpoint
//! issued them, because the token version follows the resource's `accessTokenAcceptedVersion`.
//! Source: MicrosoftDocs/entra-docs `access-token-claims-reference.md`; the decoded Key Vault
//! token in MicrosoftDocs/azure-security-docs `key-vault/general/rest-error-codes.md`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fake_kit::Cloud;
use serde::Serialize;
use uuid::Uuid;

use crate::directory::Principal;

/// How the client proved its identity (`appidacr`): "1" secret, "2" certificate or assertion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// A client secret.
    Secret,
    /// A certificate, a federated assertion or a managed identity.
    Assertion,
}

/// The claim set of an app-only v1 access token.
#[derive(Debug, Serialize)]
pub struct AccessTokenClaims {
    aud: String,
    iss: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    aio: String,
    appid: Uuid,
    appidacr: &'static str,
    idp: String,
    idtyp: &'static str,
    oid: Uuid,
    rh: String,
    sub: Uuid,
    tid: Uuid,
    uti: String,
    ver: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    xms_cc: Option<[&'static str; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    xms_mirid: Option<String>,
}

impl AccessTokenClaims {
    /// Claims for `principal` to call `audience`, issued by `cloud`'s Entra, valid from `now`
    /// for `lifetime` seconds. `cae` adds `xms_cc: ["cp1"]` when the client declared the CAE
    /// capability.
    #[must_use]
    pub fn new(
        cloud: Cloud,
        principal: &Principal,
        audience: &str,
        auth: ClientAuth,
        now: i64,
        lifetime: i64,
        cae: bool,
    ) -> Self {
        let issuer = cloud.v1_issuer(principal.tenant);
        // Entra back-dates nbf and iat by five minutes to absorb clock skew.
        let start = now - 300;
        Self {
            aud: audience.to_owned(),
            iss: issuer.clone(),
            iat: start,
            nbf: start,
            exp: now + lifetime,
            aio: opaque(),
            appid: principal.client_id,
            appidacr: match auth {
                ClientAuth::Secret => "1",
                ClientAuth::Assertion => "2",
            },
            idp: issuer,
            idtyp: "app",
            oid: principal.object_id,
            rh: format!("0.{}.", opaque()),
            sub: principal.object_id,
            tid: principal.tenant,
            uti: opaque(),
            ver: "1.0",
            xms_cc: cae.then_some(["cp1"]),
            xms_mirid: principal.resource_id.clone(),
        }
    }
}

/// The cloud whose Entra issues a token: the one the client addressed (its login host), else
/// the one whose Key Vault the token is for (a client that reaches the fake directly, or the
/// managed-identity endpoint, which has no login host), else the global cloud.
#[must_use]
pub fn issuing_cloud(login_host: Option<Cloud>, audience: &str) -> Cloud {
    login_host
        .or_else(|| Cloud::for_vault_resource(audience))
        .unwrap_or(Cloud::Public)
}

/// Opaque per-token ids (`uti`, `aio`): random, base64url, like Entra's.
fn opaque() -> String {
    URL_SAFE_NO_PAD.encode(Uuid::new_v4().as_bytes())
}
