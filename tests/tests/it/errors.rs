//! What a user sees when Entra says no: each case drives a real client into a refusal and
//! asserts the AADSTS code the library surfaces (codes and wording: azure-wire-facts.md §4.4).

use anyhow::Result;
use e2e::Aad;
use e2e::creds::{ClientCertificate, Validity};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::identity::{self, WORKLOAD_SUBJECT};
use crate::support::{self, Ids};

/// Runs `flow` and returns the AADSTS code the library surfaced, with its message for context.
async fn refused(flow: &str, env: &[(String, String)]) -> Result<(u64, String)> {
    let out = support::python_flow(flow, env).await?;
    let code = out.aadsts()?;
    Ok((code, out.error_message().unwrap_or_default().to_owned()))
}

#[tokio::test]
async fn wrong_client_secret_is_7000215() -> Result<()> {
    let ids = Ids::new();
    let aad = Aad::start(ids.directory()).await?;
    let mut env = support::client_env(&aad, &ids);
    support::set(&mut env, "AKV_E2E_SECRET", "not-the-secret");
    let (code, message) = refused("identity-secret", &env).await?;
    assert_eq!(code, 7000215, "{message}");
    assert!(message.contains("ClientAuthenticationError"), "{message}");
    let (code, message) = refused("msal-secret", &env).await?;
    assert_eq!(code, 7000215, "{message}");
    assert!(
        message.starts_with("ReturnedError: invalid_client"),
        "{message}"
    );
    Ok(())
}

#[tokio::test]
async fn expired_client_secret_is_7000222() -> Result<()> {
    let ids = Ids::new();
    let mut directory = ids.directory();
    support::app(&mut directory).secrets[0].end =
        Some(OffsetDateTime::now_utc() - time::Duration::days(1));
    let aad = Aad::start(directory).await?;
    let (code, message) = refused("identity-secret", &support::client_env(&aad, &ids)).await?;
    assert_eq!(code, 7000222, "{message}");
    Ok(())
}

#[tokio::test]
async fn client_secret_expires_when_the_fake_clock_passes_its_end() -> Result<()> {
    let ids = Ids::new();
    let aad = Aad::start(ids.directory()).await?;
    let env = support::client_env(&aad, &ids);
    support::python_flow("identity-secret", &env)
        .await?
        .claims()?;
    aad.state().clock().advance(time::Duration::days(400));
    let (code, message) = refused("identity-secret", &env).await?;
    assert_eq!(code, 7000222, "{message}");
    Ok(())
}

#[tokio::test]
async fn unknown_application_is_700016() -> Result<()> {
    let ids = Ids::new();
    let aad = Aad::start(ids.directory()).await?;
    let mut env = support::client_env(&aad, &ids);
    support::set(&mut env, "AKV_E2E_CLIENT_ID", Uuid::new_v4().to_string());
    let (code, message) = refused("identity-secret", &env).await?;
    assert_eq!(code, 700016, "{message}");
    Ok(())
}

#[tokio::test]
async fn unknown_tenant_is_90002() -> Result<()> {
    let ids = Ids::new();
    let aad = Aad::start(ids.directory()).await?;
    let mut env = support::client_env(&aad, &ids);
    support::set(&mut env, "AKV_E2E_TENANT", Uuid::new_v4().to_string());
    // MSAL fails in OIDC discovery, before any token request; the code is in the cause chain.
    let (code, message) = refused("identity-secret", &env).await?;
    assert_eq!(code, 90002, "{message}");
    let (code, message) = refused("msal-secret", &env).await?;
    assert_eq!(code, 90002, "{message}");
    Ok(())
}

#[tokio::test]
async fn unknown_resource_is_500011() -> Result<()> {
    let ids = Ids::new();
    let aad = Aad::start(ids.directory()).await?;
    let mut env = support::client_env(&aad, &ids);
    support::set(
        &mut env,
        "AKV_E2E_SCOPE",
        "https://nothing.akv-e2e.test/.default",
    );
    let (code, message) = refused("identity-secret", &env).await?;
    assert_eq!(code, 500011, "{message}");
    Ok(())
}

#[tokio::test]
async fn federated_subject_mismatch_is_70021() -> Result<()> {
    let ids = Ids::new();
    let issuer = identity::issuer().await?;
    let token = issuer.mint("system:serviceaccount:other:intruder", Validity::FRESH)?;
    let (_aad, env) = identity::with_federated_token(&ids, &issuer, &token).await?;
    let (code, message) = refused("identity-assertion", &env).await?;
    assert_eq!(code, 70021, "{message}");
    Ok(())
}

#[tokio::test]
async fn expired_federated_assertion_is_700024() -> Result<()> {
    let ids = Ids::new();
    let issuer = identity::issuer().await?;
    let token = issuer.mint(WORKLOAD_SUBJECT, Validity::EXPIRED)?;
    let (_aad, env) = identity::with_federated_token(&ids, &issuer, &token).await?;
    let (code, message) = refused("identity-assertion", &env).await?;
    assert_eq!(code, 700024, "{message}");
    Ok(())
}

#[tokio::test]
async fn unregistered_certificate_is_700027() -> Result<()> {
    let ids = Ids::new();
    // The app has no certificate at all; the client presents a valid, self-signed one.
    let cert = tokio::task::spawn_blocking(|| ClientCertificate::generate("stranger")).await??;
    let aad = Aad::start(ids.directory()).await?;
    let pem = aad.scratch().join("client.pem");
    std::fs::write(&pem, cert.combined_pem())?;
    let mut env = support::client_env(&aad, &ids);
    support::set(&mut env, "AKV_E2E_CERT_PEM", pem.display().to_string());
    let (code, message) = refused("identity-cert", &env).await?;
    assert_eq!(code, 700027, "{message}");
    Ok(())
}
