//! Starts fake-aad and fake-akv in-process (through `test-support`) with one throwaway CA and
//! one shared clock, gets real tokens from fake-aad's v2 token endpoint, and talks to the vaults over
//! real TLS. Also the JSON normaliser that keeps snapshots stable.

use std::fmt::Write as _;

use fake_akv::{EmulatorConfig, FakeAkv, Settings};
use fake_kit::Clock;
use serde_json::Value;
use test_support::{Pki, start_aad, start_akv};
use uuid::Uuid;

pub const TENANT: Uuid = Uuid::from_u128(0x11111111_1111_1111_1111_111111111111);
pub const OTHER_TENANT: Uuid = Uuid::from_u128(0x22222222_2222_2222_2222_222222222222);

/// One app registration in fake-aad.
#[derive(Clone, Copy, Debug)]
pub struct App {
    pub tenant: Uuid,
    pub client_id: Uuid,
    pub object_id: Uuid,
}

/// Secrets, Crypto and Certificates Officer on the RBAC vault `kv-rbac`.
pub const OFFICER: App = app(TENANT, 1);
/// Secrets User on `kv-rbac`.
pub const READER: App = app(TENANT, 2);
/// No role anywhere.
pub const NOBODY: App = app(TENANT, 3);
/// Secrets User scoped to `/secrets/scoped-one` on `kv-rbac`.
pub const SCOPED: App = app(TENANT, 4);
/// Access policy `get` only on `kv-policy`; `all` secrets for POLICY_ADMIN.
pub const POLICY_GET: App = app(TENANT, 5);
/// All secret permissions on `kv-policy`.
pub const POLICY_ADMIN: App = app(TENANT, 6);
/// An app in another tenant.
pub const FOREIGN: App = app(OTHER_TENANT, 7);

const fn app(tenant: Uuid, n: u128) -> App {
    App {
        tenant,
        client_id: Uuid::from_u128(0xa000_0000 + n),
        object_id: Uuid::from_u128(0x0b00_0000 + n),
    }
}

/// The client secret of every test app.
pub const CLIENT_SECRET: &str = "test~secret";

fn directory_yaml() -> String {
    let apps = |tenant: Uuid| {
        [
            OFFICER,
            READER,
            NOBODY,
            SCOPED,
            POLICY_GET,
            POLICY_ADMIN,
            FOREIGN,
        ]
        .iter()
        .filter(|a| a.tenant == tenant)
        .fold(String::new(), |mut out, a| {
            let _ = writeln!(
                out,
                "      - appId: {}\n        objectId: {}\n        secrets: [{{value: \"{CLIENT_SECRET}\"}}]",
                a.client_id, a.object_id
            );
            out
        })
    };
    format!(
        "tenants:\n  - id: {TENANT}\n    apps:\n{}  - id: {OTHER_TENANT}\n    apps:\n{}",
        apps(TENANT),
        apps(OTHER_TENANT)
    )
}

fn vaults_yaml() -> String {
    format!(
        r"
defaultVault: kv-rbac
vaults:
  - name: kv-rbac
    tenantId: {TENANT}
    location: westeurope
    subscriptionId: 33333333-3333-3333-3333-333333333333
    resourceGroup: rg-test
    roleAssignments:
      - principalId: {officer}
        role: Key Vault Secrets Officer
      - principalId: {officer}
        role: Key Vault Crypto Officer
      - principalId: {officer}
        role: Key Vault Certificates Officer
      - principalId: {reader}
        role: Key Vault Secrets User
      - principalId: {scoped}
        role: Key Vault Secrets User
        scope: /secrets/scoped-one
    secrets:
      - name: seeded
        value: from-config
        tags: {{managed-by: external-secrets}}
  - name: kv-limited
    tenantId: {TENANT}
    roleAssignments:
      - principalId: {officer}
        role: Key Vault Secrets Officer
      - principalId: {officer}
        role: Key Vault Crypto Officer
    serviceLimits:
      transactions: 3
      creates: 2
      keyTransactions: 16
      keyCreates: 2
      retryAfter: true
  - name: kv-policy
    tenantId: {TENANT}
    authorization: accessPolicies
    softDeleteRetentionDays: 7
    purgeProtection: true
    accessPolicies:
      - objectId: {policy_get}
        permissions: {{secrets: [get]}}
      - objectId: {policy_admin}
        permissions: {{secrets: [all]}}
",
        officer = OFFICER.object_id,
        reader = READER.object_id,
        scoped = SCOPED.object_id,
        policy_get = POLICY_GET.object_id,
        policy_admin = POLICY_ADMIN.object_id,
    )
}

/// Both fakes, a client trusting their CA, and the shared clock.
pub struct Env {
    pub aad: fake_aad::FakeAad,
    pub akv: FakeAkv,
    pub http: reqwest::Client,
    pub clock: Clock,
    pub ca_pem: String,
}

pub use test_support::within;

impl Env {
    pub async fn start() -> Self {
        let pki = Pki::new(&[
            "kv-rbac.localhost",
            "kv-policy.localhost",
            "kv-limited.localhost",
            "nope.localhost",
        ]);
        let clock = Clock::system();
        let directory = fake_aad::Directory::from_yaml(&directory_yaml()).expect("directory");
        let aad = start_aad(
            &pki,
            directory,
            clock.clone(),
            fake_aad::Settings::default(),
        )
        .await;
        let config = EmulatorConfig::from_yaml(&vaults_yaml()).expect("vault config");
        let akv = start_akv(&pki, config, clock.clone(), Settings::default(), &aad).await;
        let addr = akv.addr();
        let http = pki
            .client()
            .resolve("kv-rbac.localhost", addr)
            .resolve("kv-policy.localhost", addr)
            .resolve("kv-limited.localhost", addr)
            .resolve("kv-rbac.vault.azure.net", addr)
            .resolve("kv-rbac.vault.usgovcloudapi.net", addr)
            .resolve("nope.localhost", addr)
            .build()
            .expect("client");
        Self {
            aad,
            akv,
            http,
            clock,
            ca_pem: pki.ca_pem().to_owned(),
        }
    }

    /// `https://{vault}.localhost:PORT`.
    pub fn vault(&self, name: &str) -> String {
        self.akv.vault_url(name)
    }

    /// The port, for normalising ids.
    pub fn port(&self) -> u16 {
        self.akv.addr().port()
    }

    /// A real token from fake-aad's v2 endpoint for `scope`.
    pub async fn token_for(&self, app: App, scope: &str) -> String {
        let response = self
            .http
            .post(format!(
                "{}/{}/oauth2/v2.0/token",
                self.aad.url(),
                app.tenant
            ))
            .form(&[
                ("client_id", app.client_id.to_string().as_str()),
                ("client_secret", CLIENT_SECRET),
                ("scope", scope),
                ("grant_type", "client_credentials"),
            ])
            .send()
            .await
            .expect("token request");
        let status = response.status();
        let body: Value = response.json().await.expect("token JSON");
        assert!(status.is_success(), "token request failed: {body}");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// A Key Vault token for `app`.
    pub async fn token(&self, app: App) -> String {
        self.token_for(app, "https://vault.azure.net/.default")
            .await
    }

    /// Sends a request as `app` (or anonymously) and returns status, headers and JSON body
    /// (`Value::Null` for an empty body).
    pub async fn call(
        &self,
        app: Option<App>,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
    ) -> Reply {
        let token = match app {
            Some(app) => Some(self.token(app).await),
            None => None,
        };
        self.call_with_token(token.as_deref(), method, url, body)
            .await
    }

    pub async fn call_with_token(
        &self,
        token: Option<&str>,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.http.request(method, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("JSON body")
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        self.call_with_token(None, method, &format!("{}{path}", self.akv.url()), body)
            .await
    }

    /// `body` with the port, version ids and timestamps made stable for snapshots.
    pub fn normalize(&self, body: &Value) -> Value {
        normalize(body, self.port())
    }
}

/// A response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }
}

const TIMESTAMP_KEYS: &[&str] = &[
    "created",
    "updated",
    "deletedDate",
    "scheduledPurgeDate",
    "time",
];

/// Replaces every run of exactly 32 lower-case hex characters (a version id) with `[version]`.
fn redact_versions(s: &str) -> String {
    let is_hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if is_hex(chars[i]) && (i == 0 || !chars[i - 1].is_ascii_alphanumeric()) {
            let end = (i..chars.len())
                .find(|&j| !is_hex(chars[j]))
                .unwrap_or(chars.len());
            let bounded = end == chars.len() || !chars[end].is_ascii_alphanumeric();
            if end - i == 32 && bounded {
                out.push_str("[version]");
                i = end;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn normalize(value: &Value, port: u16) -> Value {
    match value {
        Value::String(s) => {
            let s = s.replace(&format!(":{port}"), ":[port]");
            Value::String(redact_versions(&s))
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| normalize(v, port)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if TIMESTAMP_KEYS.contains(&k.as_str()) && v.is_number() {
                        Value::String("[timestamp]".into())
                    } else {
                        normalize(v, port)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}
