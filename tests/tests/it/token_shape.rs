//! The access token a real client receives: v1 claims as Key Vault expects them
//! (azure-wire-facts.md §4.3; MicrosoftDocs `access-token-claims-reference.md`), signed by a
//! key published at the discovery document's `jwks_uri`.

use anyhow::{Result, ensure};
use e2e::Aad;
use serde_json::Value;

use crate::support::{self, Ids};

#[tokio::test]
async fn vault_token_has_v1_claims_and_verifies_with_the_discovered_jwks() -> Result<()> {
    let ids = Ids::new();
    let aad = Aad::start(ids.directory()).await?;
    let out = support::python_flow("identity-secret", &support::client_env(&aad, &ids)).await?;
    let claims = out.claims()?;
    let tid = ids.tenant.to_string();
    assert_eq!(claims["iss"], format!("https://sts.windows.net/{tid}/"));
    assert_eq!(claims["aud"], "https://vault.azure.net");
    assert_eq!(claims["ver"], "1.0");
    assert_eq!(claims["tid"], tid);
    assert_eq!(claims["appid"], ids.app_id.to_string());
    assert_eq!(claims["oid"], ids.object_id.to_string());
    assert_eq!(claims["sub"], ids.object_id.to_string());
    assert_eq!(claims["appidacr"], "1");
    let (iat, nbf, exp) = (
        claims["iat"].as_i64(),
        claims["nbf"].as_i64(),
        claims["exp"].as_i64(),
    );
    ensure!(
        matches!((iat, nbf, exp), (Some(i), Some(n), Some(e)) if n <= i + 1 && e > n + 3000),
        "implausible iat/nbf/exp: {claims}"
    );

    let header = out.header()?;
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    ensure!(
        header["kid"].is_string() && header["x5t"] == header["kid"],
        "{header}"
    );

    let verified =
        support::verify_with_discovered_jwks(&aad, ids.tenant, out.access_token()?).await?;
    assert_eq!(&verified, claims);
    Ok(())
}

#[tokio::test]
async fn vault_token_from_a_tampered_payload_fails_jwks_verification() -> Result<()> {
    let ids = Ids::new();
    let aad = Aad::start(ids.directory()).await?;
    let out = support::python_flow("msal-secret", &support::client_env(&aad, &ids)).await?;
    let token = out.access_token()?;
    let mut claims: Value = out.claims()?.clone();
    claims["appid"] = Value::String(uuid::Uuid::new_v4().to_string());
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            serde_json::to_vec(&claims)?
        ),
        parts[2]
    );
    let error = support::verify_with_discovered_jwks(&aad, ids.tenant, &forged)
        .await
        .expect_err("a forged payload must not verify");
    ensure!(
        error.to_string().contains("InvalidSignature"),
        "unexpected failure: {error:#}"
    );
    Ok(())
}
