//! The fake-aad fixture: the real token, discovery and managed-identity routers over a
//! directory with one app per credential kind (secret, certificate, federated), and the
//! assertions that pass for them.

use std::sync::{Mutex, MutexGuard, OnceLock};

use axum::Router;
use e2e::creds::{ClientCertificate, ExternalIssuer, Validity};
use fake_aad::{AppState, Directory, Settings};
use fake_kit::Clock;
use serde_json::json;

use crate::wire::Reply;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SECRET_APP: &str = "9a1f2b3c-4d5e-4f60-8a7b-1c2d3e4f5a6b";
const CERTIFICATE_APP: &str = "2b3c4d5e-6f70-4a81-9b2c-3d4e5f6a7b8c";
const FEDERATED_APP: &str = "3c4d5e6f-7081-4b92-8c3d-4e5f6a7b8c9d";
const ISSUER: &str = "https://oidc.fuzz.localhost";
const SUBJECT: &str = "system:serviceaccount:default:app";

/// Inputs served by one state before it is rebuilt (the audit log grows with each).
const REBUILD_EVERY: u32 = 1024;

/// The fixture, shared by every input of the process.
pub struct Fixture {
    directory: Directory,
    clock: Clock,
    assertion: String,
    federated: String,
    state: AppState,
    served: u32,
}

impl Fixture {
    /// The process's fixture, built on first use.
    pub fn lock() -> MutexGuard<'static, Fixture> {
        static FIXTURE: OnceLock<Mutex<Fixture>> = OnceLock::new();
        FIXTURE
            .get_or_init(|| Mutex::new(Fixture::build()))
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn build() -> Self {
        let certificate = ClientCertificate::generate("fuzz").expect("certificate");
        let issuer = ExternalIssuer::generate(ISSUER).expect("issuer");
        let directory: Directory = serde_json::from_value(json!({
            "tenants": [{
                "id": TENANT,
                "domains": ["fuzz.onmicrosoft.com"],
                "apps": [
                    {"appId": SECRET_APP, "objectId": "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
                     "secrets": [{"value": "fuzz-secret"}]},
                    {"appId": CERTIFICATE_APP, "objectId": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                     "certificates": [{"pem": certificate.cert_pem}]},
                    {"appId": FEDERATED_APP, "objectId": "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a",
                     "federatedCredentials": [{"name": "app", "issuer": ISSUER, "subject": SUBJECT}]},
                ],
                "managedIdentities": [{
                    "name": "fuzz-identity",
                    "clientId": "5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
                    "principalId": "1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b",
                }],
            }],
            "issuers": [issuer.trusted()],
        }))
        .expect("directory");
        let clock = Clock::system();
        clock.freeze();
        let token_url = format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token");
        let assertion = certificate
            .assertion(CERTIFICATE_APP, &token_url, clock.unix())
            .expect("assertion");
        let federated = issuer
            .mint(SUBJECT, Validity::FRESH)
            .expect("federated token");
        let state = Self::fresh_state(&directory, &clock);
        Self {
            directory,
            clock,
            assertion,
            federated,
            state,
            served: 0,
        }
    }

    fn fresh_state(directory: &Directory, clock: &Clock) -> AppState {
        let settings = Settings {
            identity_header: "fuzz-identity-header".to_owned(),
            ..Settings::default()
        };
        AppState::new(directory.clone(), clock.clone(), settings).expect("state")
    }

    /// `$ASSERTION` (the certificate app's client assertion) and `$FEDERATED` (a service
    /// account token the federated app trusts).
    #[must_use]
    pub fn placeholders(&self) -> [(&'static str, &str); 2] {
        [
            ("$ASSERTION", self.assertion.as_str()),
            ("$FEDERATED", self.federated.as_str()),
        ]
    }

    /// The router for the next input: the managed-identity listener's for the IMDS address,
    /// else the HTTPS one; over a fresh state every [`REBUILD_EVERY`] inputs.
    pub fn router(&mut self, imds: bool) -> Router {
        self.served += 1;
        if self.served >= REBUILD_EVERY {
            self.state = Self::fresh_state(&self.directory, &self.clock);
            self.served = 0;
        }
        if imds {
            fake_aad::managed_identity_router(self.state.clone())
        } else {
            fake_aad::router(self.state.clone())
        }
    }

    /// What every answer of a token endpoint must satisfy: no server error, and each error in
    /// Entra's OAuth2 shape (`error`, `error_description`, `error_codes`).
    ///
    /// # Panics
    /// When `reply` breaks a rule: the fuzzer reports that as a crash.
    pub fn check(reply: &Reply, token_endpoint: bool) {
        assert!(
            !reply.status.is_server_error(),
            "answered {}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
        if token_endpoint && reply.status.is_client_error() && reply.status != 405 {
            let body = reply.json().unwrap_or_default();
            assert!(
                body["error"].is_string()
                    && body["error_description"].is_string()
                    && body["error_codes"].is_array(),
                "a {} without Entra's error body: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            );
        }
    }
}
