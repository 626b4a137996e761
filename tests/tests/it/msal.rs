//! MSAL Python's `ConfidentialClientApplication` (client credentials) against the fake's v2
//! endpoint: client secret and both certificate thumbprint forms. Authority is the fake's own
//! address with `instance_discovery=False` until a routing proxy answers for
//! login.microsoftonline.com.

use anyhow::{Result, ensure};
use e2e::Aad;
use e2e::creds::ClientCertificate;
use fake_aad::directory::ClientCertificate as RegisteredCertificate;
use uuid::Uuid;

use crate::support::{self, Ids};

#[tokio::test]
async fn msal_client_secret_gets_a_vault_token() -> Result<()> {
    let ids = Ids::new();
    let aad = Aad::start(ids.directory()).await?;
    let out = support::python_flow("msal-secret", &support::client_env(&aad, &ids)).await?;
    let claims = out.claims()?;
    assert_eq!(claims["appid"], ids.app_id.to_string());
    assert_eq!(claims["aud"], "https://vault.azure.net");
    assert_eq!(claims["appidacr"], "1");
    Ok(())
}

/// Registers a fresh certificate on the fixture's app and writes its key and cert files.
async fn with_certificate(ids: &Ids) -> Result<(Aad, ClientCertificate, Vec<(String, String)>)> {
    let cert = tokio::task::spawn_blocking(|| ClientCertificate::generate("e2e-client")).await??;
    let mut directory = ids.directory();
    support::app(&mut directory)
        .certificates
        .push(RegisteredCertificate {
            key_id: Uuid::new_v4(),
            pem: cert.cert_pem.clone(),
        });
    let aad = Aad::start(directory).await?;
    let key_path = aad.scratch().join("client-key.pem");
    let cert_path = aad.scratch().join("client-cert.pem");
    std::fs::write(&key_path, &cert.key_pem)?;
    std::fs::write(&cert_path, &cert.cert_pem)?;
    let mut env = support::client_env(&aad, ids);
    support::set(&mut env, "AKV_E2E_KEY_PEM", key_path.display().to_string());
    support::set(
        &mut env,
        "AKV_E2E_CERT_PEM",
        cert_path.display().to_string(),
    );
    support::set(&mut env, "AKV_E2E_THUMBPRINT", cert.sha1_thumbprint());
    Ok((aad, cert, env))
}

#[tokio::test]
async fn msal_certificate_with_sha1_thumbprint_gets_a_vault_token() -> Result<()> {
    let ids = Ids::new();
    let (_aad, _cert, env) = with_certificate(&ids).await?;
    let out = support::python_flow("msal-cert", &env).await?;
    let claims = out.claims()?;
    assert_eq!(claims["appid"], ids.app_id.to_string());
    assert_eq!(claims["appidacr"], "2", "certificate auth is appidacr 2");
    Ok(())
}

#[tokio::test]
async fn msal_certificate_with_sha256_thumbprint_gets_a_vault_token() -> Result<()> {
    let ids = Ids::new();
    let (aad, _cert, env) = with_certificate(&ids).await?;
    let out = support::python_flow("msal-cert-sha256", &env).await?;
    let claims = out.claims()?;
    assert_eq!(claims["appid"], ids.app_id.to_string());
    assert_eq!(claims["appidacr"], "2");
    // The fake audits which grant it saw; the SHA-256 form must have gone through it too.
    let grants: Vec<_> = aad
        .state()
        .audit()
        .since(0)
        .into_iter()
        .map(|e| (e.grant, e.outcome))
        .collect();
    ensure!(
        grants.contains(&("client_certificate", "success".to_owned())),
        "{grants:?}"
    );
    Ok(())
}
