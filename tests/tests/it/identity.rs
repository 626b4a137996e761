//! azure-identity's credentials, each getting a Key Vault token from the fake: the app
//! credentials (secret, certificate, client assertion, workload identity) with
//! `authority=https://127.0.0.1:PORT` and `disable_instance_discovery=True`, and
//! `ManagedIdentityCredential` through the App Service and Cloud Shell endpoint shapes.

use anyhow::Result;
use e2e::Aad;
use e2e::creds::{ClientCertificate, ExternalIssuer, Validity};
use fake_aad::directory::{ClientCertificate as RegisteredCertificate, ManagedIdentity};
use uuid::Uuid;

use crate::support::{self, Ids};

#[tokio::test]
async fn client_secret_credential_gets_a_vault_token() -> Result<()> {
    let ids = Ids::new();
    let aad = Aad::start(ids.directory()).await?;
    let out = support::python_flow("identity-secret", &support::client_env(&aad, &ids)).await?;
    let claims = out.claims()?;
    assert_eq!(claims["appid"], ids.app_id.to_string());
    assert_eq!(claims["oid"], ids.object_id.to_string());
    assert_eq!(claims["appidacr"], "1");
    Ok(())
}

#[tokio::test]
async fn certificate_credential_gets_a_vault_token() -> Result<()> {
    let ids = Ids::new();
    let cert = tokio::task::spawn_blocking(|| ClientCertificate::generate("e2e-client")).await??;
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
    let out = support::python_flow("identity-cert", &env).await?;
    let claims = out.claims()?;
    assert_eq!(claims["appid"], ids.app_id.to_string());
    assert_eq!(claims["appidacr"], "2");
    Ok(())
}

/// The subject the fixture's federated credential trusts.
pub const WORKLOAD_SUBJECT: &str = "system:serviceaccount:azure-eso-test:eso-sa";

/// Starts the fake with a federated credential on the fixture's app for `issuer` and
/// [`WORKLOAD_SUBJECT`], and writes `token` to a file; returns the env with its path in
/// `AKV_E2E_ASSERTION` and `AZURE_FEDERATED_TOKEN_FILE`.
pub async fn with_federated_token(
    ids: &Ids,
    issuer: &ExternalIssuer,
    token: &str,
) -> Result<(Aad, Vec<(String, String)>)> {
    let mut directory = ids.directory();
    directory.issuers.push(issuer.trusted());
    support::app(&mut directory).federated_credentials.push(
        fake_aad::directory::FederatedCredential {
            name: "eso".into(),
            issuer: issuer.url.clone(),
            subject: WORKLOAD_SUBJECT.into(),
            audiences: vec![fake_aad::directory::TOKEN_EXCHANGE_AUDIENCE.into()],
        },
    );
    let aad = Aad::start(directory).await?;
    let path = aad.scratch().join("azure-identity-token");
    std::fs::write(&path, token)?;
    let path = path.display().to_string();
    let mut env = support::client_env(&aad, ids);
    support::set(&mut env, "AKV_E2E_ASSERTION", path.clone());
    support::set(&mut env, "AZURE_FEDERATED_TOKEN_FILE", path);
    Ok((aad, env))
}

/// A fresh issuer, off the async runtime (RSA key generation).
pub async fn issuer() -> Result<ExternalIssuer> {
    tokio::task::spawn_blocking(|| ExternalIssuer::generate("https://oidc.akv-e2e.test/issuer"))
        .await?
}

#[tokio::test]
async fn client_assertion_credential_exchanges_a_federated_token() -> Result<()> {
    let ids = Ids::new();
    let issuer = issuer().await?;
    let token = issuer.mint(WORKLOAD_SUBJECT, Validity::FRESH)?;
    let (_aad, env) = with_federated_token(&ids, &issuer, &token).await?;
    let out = support::python_flow("identity-assertion", &env).await?;
    let claims = out.claims()?;
    assert_eq!(claims["appid"], ids.app_id.to_string());
    assert_eq!(claims["appidacr"], "2");
    Ok(())
}

#[tokio::test]
async fn workload_identity_credential_reads_the_webhook_variables() -> Result<()> {
    let ids = Ids::new();
    let issuer = issuer().await?;
    let token = issuer.mint(WORKLOAD_SUBJECT, Validity::FRESH)?;
    let (aad, mut env) = with_federated_token(&ids, &issuer, &token).await?;
    // What the azure-workload-identity webhook injects (the token file is already set).
    support::set(&mut env, "AZURE_TENANT_ID", ids.tenant.to_string());
    support::set(&mut env, "AZURE_CLIENT_ID", ids.app_id.to_string());
    support::set(&mut env, "AZURE_AUTHORITY_HOST", aad.url());
    let out = support::python_flow("identity-workload", &env).await?;
    let claims = out.claims()?;
    assert_eq!(claims["appid"], ids.app_id.to_string());
    assert_eq!(claims["tid"], ids.tenant.to_string());
    Ok(())
}

/// Starts the fake with one user-assigned managed identity; returns it with the fake.
async fn with_managed_identity(ids: &Ids) -> Result<(Aad, ManagedIdentity)> {
    let identity = ManagedIdentity {
        name: "eso-identity".into(),
        client_id: Uuid::new_v4(),
        principal_id: Uuid::new_v4(),
        resource_id: None,
        federated_credentials: vec![],
    };
    let mut directory = ids.directory();
    directory.tenants[0]
        .managed_identities
        .push(identity.clone());
    Ok((Aad::start(directory).await?, identity))
}

/// Variables for a managed-identity client: trust, but no app credentials.
fn managed_identity_env(aad: &Aad) -> Vec<(String, String)> {
    let mut env = aad.trust_env();
    env.push(("PYTHONDONTWRITEBYTECODE".into(), "1".into()));
    env
}

#[tokio::test]
async fn managed_identity_credential_uses_the_app_service_endpoint() -> Result<()> {
    let ids = Ids::new();
    let (aad, identity) = with_managed_identity(&ids).await?;
    let mut env = managed_identity_env(&aad);
    support::set(
        &mut env,
        "IDENTITY_ENDPOINT",
        format!("{}/msi/token", aad.imds_url()),
    );
    support::set(&mut env, "IDENTITY_HEADER", aad.identity_header());
    support::set(
        &mut env,
        "AKV_E2E_CLIENT_ID",
        identity.client_id.to_string(),
    );
    let out = support::python_flow("identity-managed", &env).await?;
    let claims = out.claims()?;
    assert_eq!(claims["appid"], identity.client_id.to_string());
    assert_eq!(claims["oid"], identity.principal_id.to_string());
    assert_eq!(claims["aud"], "https://vault.azure.net");
    assert!(
        claims["xms_mirid"]
            .as_str()
            .is_some_and(|id| id.ends_with("/userAssignedIdentities/eso-identity")),
        "{claims}"
    );
    Ok(())
}

#[tokio::test]
async fn managed_identity_credential_uses_the_cloud_shell_endpoint() -> Result<()> {
    let ids = Ids::new();
    let (aad, identity) = with_managed_identity(&ids).await?;
    let mut env = managed_identity_env(&aad);
    // MSI_ENDPOINT alone: azure-identity's CloudShellCredential POSTs a form with `Metadata: true`.
    support::set(
        &mut env,
        "MSI_ENDPOINT",
        format!("{}/metadata/identity/oauth2/token", aad.imds_url()),
    );
    let out = support::python_flow("identity-managed", &env).await?;
    let claims = out.claims()?;
    assert_eq!(claims["appid"], identity.client_id.to_string());
    assert_eq!(claims["oid"], identity.principal_id.to_string());
    Ok(())
}

#[tokio::test]
async fn managed_identity_credential_uses_imds_at_the_pod_identity_host() -> Result<()> {
    let ids = Ids::new();
    let (aad, identity) = with_managed_identity(&ids).await?;
    let mut env = managed_identity_env(&aad);
    // No App Service or Cloud Shell variables: ImdsCredential, at the host aad-pod-identity's
    // variable names instead of 169.254.169.254 (GET with `Metadata: true`, api 2018-02-01).
    support::set(
        &mut env,
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        aad.imds_url(),
    );
    support::set(
        &mut env,
        "AKV_E2E_CLIENT_ID",
        identity.client_id.to_string(),
    );
    let out = support::python_flow("identity-managed", &env).await?;
    let claims = out.claims()?;
    assert_eq!(claims["appid"], identity.client_id.to_string());
    assert_eq!(claims["oid"], identity.principal_id.to_string());
    assert_eq!(claims["tid"], ids.tenant.to_string());
    Ok(())
}
