//! The fake-akv fixture: the real router over two vaults (one RBAC, one access policies) whose
//! token verifier fetches keys from a real fake-aad over TLS, and a token that passes it.

use std::sync::{Mutex, MutexGuard, OnceLock};

use axum::Router;
use fake_aad::Directory;
use fake_akv::{AppState, EmulatorConfig, Settings, TokenVerifier};

use crate::wire::Reply;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "9a1f2b3c-4d5e-4f60-8a7b-1c2d3e4f5a6b";
const OBJECT_ID: &str = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
const CLIENT_SECRET: &str = "fuzz-secret";

/// Inputs served by one state before it is rebuilt: every stored version is kept, so a long
/// run would otherwise grow without bound.
const REBUILD_EVERY: u32 = 512;

/// The fixture, shared by every input of the process.
pub struct Fixture {
    aad: e2e::Aad,
    ca_pem: String,
    token: String,
    state: AppState,
    served: u32,
    /// A control request ran since the last rebuild: it may have injected faults, whose
    /// 5xx answers are then expected.
    tainted: bool,
}

fn vaults() -> EmulatorConfig {
    EmulatorConfig::from_yaml(&format!(
        r"
defaultVault: kv-fuzz
vaults:
  - name: kv-fuzz
    tenantId: {TENANT}
    roleAssignments:
      - principalId: {OBJECT_ID}
        role: Key Vault Administrator
    secrets:
      - name: seeded
        value: from-config
  - name: kv-policy
    tenantId: {TENANT}
    authorization: accessPolicies
    purgeProtection: true
    accessPolicies:
      - objectId: {OBJECT_ID}
        permissions: {{secrets: [all], keys: [all], certificates: [all]}}
"
    ))
    .expect("vault config")
}

impl Fixture {
    /// The process's fixture, started on first use.
    pub fn lock() -> MutexGuard<'static, Fixture> {
        static FIXTURE: OnceLock<Mutex<Fixture>> = OnceLock::new();
        FIXTURE
            .get_or_init(|| Mutex::new(Fixture::start()))
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn start() -> Self {
        crate::runtime().block_on(async {
            let directory = Directory::from_yaml(&format!(
                "tenants:\n  - id: {TENANT}\n    apps:\n      - appId: {CLIENT_ID}\n        objectId: {OBJECT_ID}\n        secrets: [{{value: {CLIENT_SECRET}}}]\n"
            ))
            .expect("directory");
            let aad = e2e::Aad::start(directory).await.expect("fake-aad starts");
            aad.state().clock().freeze();
            let ca_pem = std::fs::read_to_string(aad.ca_path()).expect("CA file");
            let reply: serde_json::Value = aad
                .http()
                .expect("client")
                .post(format!("{}/{TENANT}/oauth2/v2.0/token", aad.url()))
                .form(&[
                    ("client_id", CLIENT_ID),
                    ("client_secret", CLIENT_SECRET),
                    ("scope", "https://vault.azure.net/.default"),
                    ("grant_type", "client_credentials"),
                ])
                .send()
                .await
                .expect("token request")
                .json()
                .await
                .expect("token JSON");
            let token = reply["access_token"].as_str().expect("a token").to_owned();
            let state = Self::fresh_state(&aad, &ca_pem);
            Self {
                aad,
                ca_pem,
                token,
                state,
                served: 0,
                tainted: false,
            }
        })
    }

    fn fresh_state(aad: &e2e::Aad, ca_pem: &str) -> AppState {
        let state = AppState::new(vaults(), aad.state().clock().clone(), Settings::default())
            .expect("state");
        state.set_verifier(TokenVerifier::new(&aad.url(), Some(ca_pem)).expect("verifier"));
        state
    }

    /// `$TOKEN`: a Key Vault token of an app with every data action on both vaults.
    #[must_use]
    pub fn placeholders(&self) -> [(&'static str, &str); 1] {
        [("$TOKEN", self.token.as_str())]
    }

    /// The router for the next input, over a fresh state every [`REBUILD_EVERY`] inputs.
    pub fn router(&mut self, control: bool) -> Router {
        self.served += 1;
        if self.served >= REBUILD_EVERY {
            self.state = Self::fresh_state(&self.aad, &self.ca_pem);
            self.served = 0;
            self.tainted = false;
        }
        self.tainted |= control;
        fake_akv::router(self.state.clone())
    }

    /// What every data-plane answer must satisfy: no server error (unless a control request
    /// may have injected one), and each error in Key Vault's `{"error":{"code","message"}}`.
    ///
    /// # Panics
    /// When `reply` breaks either rule: the fuzzer reports that as a crash.
    pub fn check(&self, reply: &Reply, control: bool) {
        if control {
            return;
        }
        assert!(
            self.tainted || !reply.status.is_server_error(),
            "data plane answered {}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
        if reply.status.is_client_error() {
            let body = reply.json().unwrap_or_default();
            assert!(
                body["error"]["code"].is_string() && body["error"]["message"].is_string(),
                "a {} without Key Vault's error body: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            );
        }
    }
}
