//! A Rust client through the container's proxy: the declared world is what the vault serves.

use akv_e2e_testcontainers::AkvBench;
use anyhow::{Context, Result};
use serde_json::Value;

use super::support::image_ready;

const API: &str = "api-version=7.5";

async fn token(bench: &akv_e2e_testcontainers::RunningBench, app: &str) -> Result<String> {
    let app = bench.app(app).context("declared app")?;
    let client = bench.http_client()?.build()?;
    let reply: Value = client
        .post(format!(
            "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
            bench.tenant_id()
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app.app_id.to_string()),
            ("client_secret", &app.secrets[0].value),
            ("scope", "https://vault.azure.net/.default"),
        ])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(reply["access_token"]
        .as_str()
        .context("an access token")?
        .to_owned())
}

#[tokio::test]
async fn a_declared_secret_is_read_with_a_token_and_a_roleless_app_is_refused() -> Result<()> {
    if !image_ready() {
        return Ok(());
    }
    let bench = AkvBench::default()
        .with_vault("orders-kv")
        .with_secret("orders-kv", "db-password", "s3cret")
        .with_app("orders")
        .with_app("intruder")
        .with_role("orders", "Key Vault Secrets User", "orders-kv")
        .start()
        .await?;
    let client = bench.http_client()?.build()?;
    let url = format!("{}secrets/db-password?{API}", bench.vault_url("orders-kv"));

    let read: Value = client
        .get(&url)
        .bearer_auth(token(&bench, "orders").await?)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    assert_eq!(read["value"], "s3cret");

    let refused = client
        .get(&url)
        .bearer_auth(token(&bench, "intruder").await?)
        .send()
        .await?;
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await?;
    assert_eq!(body["error"]["code"], "Forbidden", "{body}");
    assert_eq!(
        body["error"]["innererror"]["code"], "ForbiddenByRbac",
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn a_state_directory_keeps_writes_and_credentials_across_containers() -> Result<()> {
    if !image_ready() {
        return Ok(());
    }
    let state = tempfile::tempdir()?;
    let declared = AkvBench::default()
        .with_vault("state-kv")
        .with_app("svc")
        .with_role("svc", "Key Vault Secrets Officer", "state-kv")
        .with_state_dir(state.path());
    let first = declared.clone().start().await?;
    let client = first.http_client()?.build()?;
    let url = format!("{}secrets/rotated?{API}", first.vault_url("state-kv"));
    let written: Value = client
        .put(&url)
        .bearer_auth(token(&first, "svc").await?)
        .json(&serde_json::json!({ "value": "v2" }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    drop(first);

    // The same directory: served as it is, with the world read back from it.
    let second = declared.start().await?;
    let client = second.http_client()?.build()?;
    let read: Value = client
        .get(&url)
        .bearer_auth(token(&second, "svc").await?)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    assert_eq!(read["value"], "v2");
    assert_eq!(read["id"], written["id"]);
    Ok(())
}
