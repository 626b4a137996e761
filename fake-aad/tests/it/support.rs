//! Starts fake-aad (through `test-support`) with a throwaway CA and gives tests a client that
//! trusts it.

use fake_aad::{Directory, FakeAad, Settings};
use fake_kit::Clock;
use test_support::{Pki, start_aad, trusting};

pub use test_support::claims;

pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const APP: &str = "9a1f2b3c-4d5e-4f60-8a7b-1c2d3e4f5a6b";
pub const APP_OBJECT: &str = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
pub const SECRET: &str = "eso-app-secret";
pub const MI_CLIENT: &str = "5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f";
pub const IDENTITY_HEADER: &str = "identity-header-for-tests";

pub fn directory() -> Directory {
    Directory::from_yaml(&format!(
        r"
tenants:
  - id: {TENANT}
    displayName: Contoso
    domains: [contoso.onmicrosoft.com]
    apps:
      - appId: {APP}
        objectId: {APP_OBJECT}
        displayName: eso-app
        secrets:
          - value: {SECRET}
          - value: old-secret
            end: 2020-01-01T00:00:00Z
    managedIdentities:
      - name: eso-identity
        clientId: {MI_CLIENT}
        principalId: 1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b
"
    ))
    .expect("test directory parses")
}

pub struct Running {
    pub aad: FakeAad,
    pub client: reqwest::Client,
    pub ca_pem: String,
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.aad.url())
    }

    pub fn imds(&self, path: &str) -> String {
        format!("{}{path}", self.aad.imds_url())
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("request");
        json(response).await
    }

    /// A client that reaches this fake under `hosts` (real names, real TLS: the leaf covers
    /// every cloud's login hosts).
    pub fn client_as(&self, hosts: &[&str]) -> reqwest::Client {
        let mut builder = trusting(self.ca_pem.as_bytes());
        for host in hosts {
            builder = builder.resolve(host, self.aad.addr());
        }
        builder.build().expect("client")
    }

    pub async fn get(&self, url: &str) -> (u16, serde_json::Value) {
        json(self.client.get(url).send().await.expect("request")).await
    }
}

pub async fn json(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

pub async fn start() -> Running {
    start_with(directory()).await
}

pub async fn start_with(directory: Directory) -> Running {
    let pki = Pki::new(&[]);
    let settings = Settings {
        identity_header: IDENTITY_HEADER.to_owned(),
        ..Settings::default()
    };
    let aad = start_aad(&pki, directory, Clock::system(), settings).await;
    Running {
        aad,
        client: pki.client().build().expect("client"),
        ca_pem: pki.ca_pem().to_owned(),
    }
}

/// Redactions for the per-response volatile fields of Entra bodies.
#[macro_export]
macro_rules! assert_aad_snapshot {
    ($value:expr) => {
        insta::assert_json_snapshot!($value, {
            ".trace_id" => "[guid]",
            ".correlation_id" => "[guid]",
            ".timestamp" => "[timestamp]",
            ".error_description" => insta::dynamic_redaction(|value, _| {
                let text = value.as_str().expect("description is a string");
                let cut = text.find(" Trace ID:").expect("description carries the trailer");
                format!("{} Trace ID: [guid] Correlation ID: [guid] Timestamp: [timestamp]", &text[..cut])
            }),
            ".access_token" => "[jwt]",
            ".expires_on" => "[unix]",
            ".not_before" => "[unix]",
        });
    };
}
