//! A minimal Key Vault client that goes where unmodified clients go: through the routing proxy
//! to `https://{vault}.vault.azure.net`, with a client-credentials token from
//! `https://login.microsoftonline.com`. Tests use it to seed and rotate secrets and to create
//! certificates.

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// A client for one vault, holding one token.
pub struct VaultClient {
    http: reqwest::Client,
    vault_url: String,
    token: String,
}

fn var<'a>(env: &'a [(&str, String)], key: &str) -> anyhow::Result<&'a str> {
    env.iter()
        .find_map(|(k, v)| (*k == key).then_some(v.as_str()))
        .with_context(|| format!("{key} missing from the bench environment"))
}

impl VaultClient {
    /// Connects with the bench's environment (`HTTPS_PROXY`, the CA, `AZURE_*`).
    pub async fn from_env(env: &[(&str, String)], ca_pem: &str) -> anyhow::Result<Self> {
        let http = test_support::trusting(ca_pem.as_bytes())
            .proxy(reqwest::Proxy::https(var(env, "HTTPS_PROXY")?)?)
            .build()?;
        let tenant = var(env, "AZURE_TENANT_ID")?;
        let response: Value = http
            .post(format!(
                "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
            ))
            .form(&[
                ("client_id", var(env, "AZURE_CLIENT_ID")?),
                ("client_secret", var(env, "AZURE_CLIENT_SECRET")?),
                ("scope", "https://vault.azure.net/.default"),
                ("grant_type", "client_credentials"),
            ])
            .send()
            .await?
            .json()
            .await?;
        let token = response["access_token"]
            .as_str()
            .with_context(|| format!("no token: {response}"))?
            .to_owned();
        Ok(Self {
            http,
            vault_url: var(env, "AZURE_KEYVAULT_URL")?.to_owned(),
            token,
        })
    }

    /// `PUT /secrets/{name}`: sets a new version and returns the SecretBundle.
    pub async fn set(&self, name: &str, value: &str) -> anyhow::Result<Value> {
        self.send(
            self.http
                .put(format!("{}/secrets/{name}?api-version=7.6", self.vault_url))
                .json(&json!({ "value": value })),
        )
        .await
    }

    /// `PATCH /secrets/{name}/`: changes attributes of the latest version.
    pub async fn update(&self, name: &str, body: Value) -> anyhow::Result<Value> {
        self.send(
            self.http
                .patch(format!(
                    "{}/secrets/{name}/?api-version=7.6",
                    self.vault_url
                ))
                .json(&body),
        )
        .await
    }

    /// `GET {path}` (`path` after the vault URL, with its query): the body of a success.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send(self.http.get(format!("{}{path}", self.vault_url)))
            .await
    }

    /// `POST /certificates/{name}/create` with `policy`, then `GET /certificates/{name}/` once
    /// the operation is complete; returns the CertificateBundle.
    pub async fn create_certificate(&self, name: &str, policy: Value) -> anyhow::Result<Value> {
        let url = format!("{}/certificates/{name}", self.vault_url);
        self.send(
            self.http
                .post(format!("{url}/create?api-version=7.6"))
                .json(&json!({ "policy": policy })),
        )
        .await?;
        for _ in 0..50 {
            let operation = self
                .send(self.http.get(format!("{url}/pending?api-version=7.6")))
                .await?;
            if operation["status"] != "inProgress" {
                return self
                    .send(self.http.get(format!("{url}/?api-version=7.6")))
                    .await;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        bail!("certificate {name} still in progress")
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let response = request.bearer_auth(&self.token).send().await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("vault answered {status}: {body}");
        }
        Ok(body)
    }
}
