//! @azure/identity for Node (MSAL Node underneath) against the fake, with
//! `authorityHost` set to the fake and `disableInstanceDiscovery: true`, trusting the CA
//! through `NODE_EXTRA_CA_CERTS`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use e2e::creds::ClientCertificate;
use e2e::{Aad, ClientOutcome, run_client};
use fake_aad::directory::ClientCertificate as RegisteredCertificate;
use uuid::Uuid;

use crate::support::{self, Ids};

/// Runs `tests/node/get_token.cjs <flow>` with the pinned packages on `NODE_PATH`.
async fn node_flow(flow: &str, env: &[(String, String)]) -> Result<ClientOutcome> {
    let modules = support::node_modules().await?;
    let node = which("node")?;
    let script = e2e::node::scripts_dir().join("get_token.cjs");
    let mut env = env.to_vec();
    support::set(&mut env, "NODE_PATH", modules.display().to_string());
    support::within(run_client(
        &node,
        [script.as_os_str(), std::ffi::OsStr::new(flow)],
        &env,
    ))
    .await
}

fn which(program: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").context("PATH is not set")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .with_context(|| format!("{program} is not on PATH"))
}

#[tokio::test]
async fn node_client_secret_credential_gets_a_vault_token() -> Result<()> {
    let ids = Ids::new();
    let aad = Aad::start(ids.directory()).await?;
    let out = node_flow("identity-secret", &support::client_env(&aad, &ids)).await?;
    let claims = out.claims()?;
    assert_eq!(claims["appid"], ids.app_id.to_string());
    assert_eq!(claims["aud"], "https://vault.azure.net");
    assert_eq!(claims["ver"], "1.0");
    Ok(())
}

#[tokio::test]
async fn node_client_certificate_credential_gets_a_vault_token() -> Result<()> {
    let ids = Ids::new();
    let cert = tokio::task::spawn_blocking(|| ClientCertificate::generate("e2e-node")).await??;
    let mut directory = ids.directory();
    support::app(&mut directory)
        .certificates
        .push(RegisteredCertificate {
            key_id: Uuid::new_v4(),
            pem: cert.cert_pem.clone(),
        });
    let aad = Aad::start(directory).await?;
    let pem = aad.scratch().join("client.pem");
    std::fs::write(&pem, cert.combined_pem())?;
    let mut env = support::client_env(&aad, &ids);
    support::set(&mut env, "AKV_E2E_CERT_PEM", pem.display().to_string());
    let out = node_flow("identity-cert", &env).await?;
    let claims = out.claims()?;
    assert_eq!(claims["appid"], ids.app_id.to_string());
    assert_eq!(claims["appidacr"], "2");
    Ok(())
}

#[tokio::test]
async fn node_wrong_client_secret_is_7000215() -> Result<()> {
    let ids = Ids::new();
    let aad = Aad::start(ids.directory()).await?;
    let mut env = support::client_env(&aad, &ids);
    support::set(&mut env, "AKV_E2E_SECRET", "not-the-secret");
    let out = node_flow("identity-secret", &env).await?;
    assert_eq!(out.aadsts()?, 7000215, "{:?}", out.error_message());
    Ok(())
}
