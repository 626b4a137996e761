//! `harness serve`: the fakes, the routing proxy and the managed-identity endpoint in one
//! process, plus the environment that points unmodified clients at them. The bench answers as
//! the global cloud unless told which clouds ([`Cloud`]) to stand in for.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use fake_aad::directory::{App, ClientSecret, ManagedIdentity, Tenant};
use fake_aad::{AppState, Directory, FakeAad, Settings};
use fake_akv::vault::{Authorization, RoleAssignment};
use fake_akv::{EmulatorConfig, FakeAkv, Snapshot, VaultSpec};
use fake_kit::{CertificateAuthority, Clock, Cloud};
use uuid::Uuid;

use crate::proxy::{Backends, Proxy, azure_routes};

/// The vault the default world declares, as in the seed articles.
pub const DEFAULT_VAULT: &str = "my-key-vault";

/// Files kept in the state directory.
const DIRECTORY_FILE: &str = "directory.json";
const VAULTS_FILE: &str = "vaults.json";
/// fake-akv's durable state ([`fake_akv::persist`]): every acknowledged vault write.
pub const VAULT_STATE_FILE: &str = "vault-state.json";
/// Fake-aad's directory journal.
pub const DIRECTORY_STATE_FILE: &str = DIRECTORY_FILE;
/// Where a running bench says how to reach it ([`ServeInfo`]).
pub const SERVE_INFO_FILE: &str = "serve.json";
const BUNDLE_FILE: &str = "ca-bundle.pem";

/// Errors while starting the bench.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The CA could not be created or loaded.
    #[error("local CA: {0}")]
    Pki(#[from] fake_kit::PkiError),
    /// A listener could not bind.
    #[error(transparent)]
    Listen(#[from] fake_kit::ServeError),
    /// The proxy could not bind.
    #[error(transparent)]
    Proxy(#[from] crate::proxy::ProxyError),
    /// A state file could not be read or written.
    #[error("{path}: {source}")]
    State {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A state or config file is not valid.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The HTTP client for external issuers could not be built.
    #[error("HTTP client: {0}")]
    Http(String),
}

/// How to start the bench.
#[derive(Clone, Debug)]
pub struct Options {
    /// Where the CA, the CA bundle and durable state live.
    pub state_dir: PathBuf,
    /// A directory file to start from; otherwise the state directory's, otherwise the default world.
    pub directory: Option<PathBuf>,
    /// A fake-akv vault file to start from; otherwise the state directory's, otherwise one
    /// RBAC vault, `my-key-vault`, where the default app holds Key Vault Secrets Officer.
    pub vaults: Option<PathBuf>,
    /// The proxy's listen address.
    pub proxy_listen: SocketAddr,
}

/// The running bench.
pub struct Bench {
    aad: FakeAad,
    akv: FakeAkv,
    arm: fake_kit::Served,
    proxy: Proxy,
    /// What the proxy routes, to serve again where pods can reach it.
    routes: Vec<crate::proxy::Route>,
    state_dir: PathBuf,
    credentials: Option<(Uuid, Uuid, String)>,
    /// The cloud clients are pointed at: the first one asked for.
    cloud: Cloud,
    ca_pem: String,
}

impl Bench {
    /// Starts the fakes and the routing proxy, answering as the global cloud.
    pub async fn start(options: Options) -> Result<Self, ServeError> {
        Self::start_with_clouds(options, &[Cloud::Public]).await
    }

    /// Starts the fakes and the routing proxy, answering as each of `clouds` (their login,
    /// vault and ARM hosts); the environment points clients at the first. With no cloud the
    /// global one is answered.
    pub async fn start_with_clouds(options: Options, clouds: &[Cloud]) -> Result<Self, ServeError> {
        let clouds = if clouds.is_empty() {
            &[Cloud::Public][..]
        } else {
            clouds
        };
        std::fs::create_dir_all(&options.state_dir).map_err(|source| ServeError::State {
            path: options.state_dir.clone(),
            source,
        })?;
        let ca = CertificateAuthority::load_or_generate(&options.state_dir)?;
        write_bundle(&options.state_dir, ca.cert_pem())?;
        let tls = ca.issue_default(&[])?.server_config()?;
        let directory = load_directory(&options)?;
        let credentials = first_secret(&directory);
        let settings = Settings {
            journal: Some(options.state_dir.join(DIRECTORY_FILE)),
            ..Settings::default()
        };
        // One clock for both fakes: advancing it expires credentials, tokens and deleted objects alike.
        let clock = Clock::system();
        let state = AppState::new(directory, clock.clone(), settings)
            .map_err(|e| ServeError::Http(e.to_string()))?;
        let aad = FakeAad::start(
            fake_aad::Options {
                listen: loopback(),
                imds_listen: loopback(),
                tls: tls.clone(),
            },
            state,
        )
        .await?;
        let arm = fake_kit::serve::spawn_tls(
            loopback(),
            tls.clone(),
            crate::arm::router(aad.state().clone()),
        )
        .await?;
        let akv_state = load_vault_state(&options, &aad.state().directory(), clock)?;
        let akv = FakeAkv::start(
            fake_akv::Options {
                listen: loopback(),
                tls: tls.clone(),
                aad_url: Some(aad.url()),
                aad_ca_pem: Some(ca.cert_pem().to_owned()),
            },
            akv_state,
        )
        .await
        .map_err(|e| ServeError::Http(e.to_string()))?;
        let routes = azure_routes(
            clouds,
            Backends {
                aad: aad.addr(),
                akv: Some(akv.addr()),
                arm: Some(arm.addr()),
                imds: imds_addr(&aad),
            },
        );
        let proxy = Proxy::start(options.proxy_listen, routes.clone()).await?;
        let cloud = clouds[0];
        let info = ServeInfo {
            pid: std::process::id(),
            aad_url: aad.url(),
            akv_url: akv.url(),
            proxy_url: proxy.url(),
            ca: options.state_dir.join("ca.pem"),
            vault_url: cloud.vault_url(DEFAULT_VAULT),
        };
        write_json(&options.state_dir.join(SERVE_INFO_FILE), &info)?;
        Ok(Self {
            aad,
            akv,
            arm,
            proxy,
            routes,
            state_dir: options.state_dir,
            credentials,
            cloud,
            ca_pem: ca.cert_pem().to_owned(),
        })
    }

    /// The environment for clients: proxy, trust, credentials and direct endpoints.
    #[must_use]
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let bundle = self.state_dir.join(BUNDLE_FILE).display().to_string();
        let ca = self.state_dir.join("ca.pem").display().to_string();
        let imds = self.aad.imds_url();
        let mut env = vec![
            ("HTTPS_PROXY", self.proxy.url()),
            ("HTTP_PROXY", self.proxy.url()),
            ("NO_PROXY", "localhost,127.0.0.1,::1".to_owned()),
            ("SSL_CERT_FILE", bundle.clone()),
            ("REQUESTS_CA_BUNDLE", bundle),
            ("NODE_EXTRA_CA_CERTS", ca),
            ("AZURE_KEYVAULT_URL", self.cloud.vault_url(DEFAULT_VAULT)),
            ("FAKE_AAD_ENDPOINT", self.aad.url()),
            // For `harness vault`, `harness aad` and `harness audit` in the same shell.
            ("HARNESS_STATE_DIR", self.state_dir.display().to_string()),
            ("FAKE_AKV_ENDPOINT", self.akv.url()),
            ("IDENTITY_ENDPOINT", format!("{imds}/msi/token")),
            (
                "IDENTITY_HEADER",
                self.aad.state().settings().identity_header.clone(),
            ),
            (
                "MSI_ENDPOINT",
                format!("{imds}/metadata/identity/oauth2/token"),
            ),
        ];
        if self.cloud != Cloud::Public {
            // The SDKs' authority host defaults to the global cloud's; a sovereign one is named.
            env.push((
                "AZURE_AUTHORITY_HOST",
                format!("https://{}", self.cloud.authority_host()),
            ));
        }
        if let Some((tenant, client, secret)) = &self.credentials {
            env.push(("AZURE_TENANT_ID", tenant.to_string()));
            env.push(("AZURE_CLIENT_ID", client.to_string()));
            env.push(("AZURE_CLIENT_SECRET", secret.clone()));
        }
        env
    }

    /// What a controller (ESO) needs to reach the fakes at Azure's host names: the routing
    /// proxy (with loopback exempt) and the CA bundle that trusts the bench. The plane's ESO
    /// gets exactly this, and a foreign cluster's ESO is told it.
    #[must_use]
    pub fn eso_env(&self) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
        self.env()
            .into_iter()
            .filter(|(k, _)| ["HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "SSL_CERT_FILE"].contains(k))
            .map(|(k, v)| (k.into(), v.into()))
            .collect()
    }

    /// The environment as `export` lines for a POSIX shell.
    #[must_use]
    pub fn env_script(&self) -> String {
        self.env()
            .iter()
            .fold(String::new(), |mut out, (key, value)| {
                let _ = writeln!(out, "export {key}={}", shell_quote(value));
                out
            })
    }

    /// The front door for a host that cannot read the state directory (the bench in a
    /// container): `GET /ca.pem`, `GET /env` (the `export` lines) and `GET /env.json` (the
    /// same as one object). Values are as the bench sees them; a client elsewhere swaps in
    /// its own address of the proxy and its own copy of the CA.
    pub fn front_door(&self) -> axum::Router {
        let env: serde_json::Map<String, serde_json::Value> = self
            .env()
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value.into()))
            .collect();
        let script = self.env_script();
        let ca = self.ca_pem.clone();
        axum::Router::new()
            .route(
                "/ca.pem",
                axum::routing::get(move || async move {
                    ([(http::header::CONTENT_TYPE, "application/x-pem-file")], ca)
                }),
            )
            .route("/env", axum::routing::get(move || async move { script }))
            .route(
                "/env.json",
                axum::routing::get(move || async move { axum::Json(env) }),
            )
    }

    /// fake-aad, for in-process control.
    #[must_use]
    pub fn aad(&self) -> &FakeAad {
        &self.aad
    }

    /// fake-akv, for in-process control.
    #[must_use]
    pub fn akv(&self) -> &FakeAkv {
        &self.akv
    }

    /// A second routing proxy with the same routes on `listen`: where a real node's pods
    /// reach the fakes (the node's bridge address), since loopback is theirs alone.
    pub async fn proxy_on(&self, listen: SocketAddr) -> Result<Proxy, crate::proxy::ProxyError> {
        Proxy::start(listen, self.routes.clone()).await
    }

    /// The routing proxy.
    #[must_use]
    pub fn proxy(&self) -> &Proxy {
        &self.proxy
    }

    /// The state directory.
    #[must_use]
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// Stops everything gracefully.
    pub async fn shutdown(self) {
        // Nobody serves the directory any more (a crash leaves the file; its pid is checked).
        let _ = std::fs::remove_file(self.state_dir.join(SERVE_INFO_FILE));
        self.proxy.shutdown().await;
        self.arm.shutdown().await;
        self.akv.shutdown().await;
        self.aad.shutdown().await;
    }
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn imds_addr(aad: &FakeAad) -> SocketAddr {
    aad.imds_url()
        .trim_start_matches("http://")
        .parse()
        .expect("fake-aad reports its IMDS address as http://ip:port")
}

/// The system roots plus our CA, for clients whose trust store setting replaces the defaults
/// (`SSL_CERT_FILE` for Go and OpenSSL, `REQUESTS_CA_BUNDLE` for Python requests).
fn write_bundle(dir: &Path, ca_pem: &str) -> Result<(), ServeError> {
    let system = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok())
    .unwrap_or_default();
    let path = dir.join(BUNDLE_FILE);
    std::fs::write(&path, format!("{system}\n{ca_pem}"))
        .map_err(|source| ServeError::State { path, source })
}

/// The vault state: the state directory's durable state unless a vault file is given, else
/// the vault file or the default vaults. Persisted once before anything is served, so a
/// restart finds the same ids.
fn load_vault_state(
    options: &Options,
    directory: &Directory,
    clock: Clock,
) -> Result<fake_akv::AppState, ServeError> {
    let path = options.state_dir.join(VAULT_STATE_FILE);
    let invalid = |message: String| ServeError::Invalid {
        path: path.clone(),
        message,
    };
    let settings = fake_akv::Settings {
        state_file: Some(path.clone()),
        ..fake_akv::Settings::default()
    };
    let saved = match &options.vaults {
        Some(_) => None,
        None => Snapshot::load(&path).map_err(|e| invalid(e.to_string()))?,
    };
    let state = if let Some(snapshot) = saved {
        fake_akv::AppState::from_snapshot(snapshot, clock, settings)
            .map_err(|e| invalid(e.to_string()))?
    } else {
        let vaults = load_vaults(options, directory)?;
        fake_akv::AppState::new(vaults, clock, settings).map_err(|e| invalid(e.to_string()))?
    };
    state.persist().map_err(|e| invalid(e.to_string()))?;
    Ok(state)
}

/// How to reach a running bench: written to `serve.json` in its state directory for the admin
/// commands (`harness vault`, `harness aad`, `harness audit`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServeInfo {
    /// The serving process.
    pub pid: u32,
    /// fake-aad's address (its admin API is under `/_emulator`).
    pub aad_url: String,
    /// fake-akv's address (its admin API is under `/_emulator`).
    pub akv_url: String,
    /// The routing proxy.
    pub proxy_url: String,
    /// The CA both fakes' certificates chain to.
    pub ca: PathBuf,
    /// The default vault's URL.
    pub vault_url: String,
}

impl ServeInfo {
    /// Reads `serve.json` from a state directory.
    pub fn load(state_dir: &Path) -> Result<Self, ServeError> {
        let path = state_dir.join(SERVE_INFO_FILE);
        let text = std::fs::read(&path).map_err(|source| ServeError::State {
            path: path.clone(),
            source,
        })?;
        serde_json::from_slice(&text).map_err(|e| ServeError::Invalid {
            path,
            message: e.to_string(),
        })
    }
}

fn load_vaults(options: &Options, directory: &Directory) -> Result<EmulatorConfig, ServeError> {
    let saved = options.state_dir.join(VAULTS_FILE);
    let path = match &options.vaults {
        Some(path) => path.clone(),
        None if saved.exists() => saved.clone(),
        None => {
            let vaults = default_vaults(directory);
            write_json(&saved, &vaults)?;
            return Ok(vaults);
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ServeError::State {
        path: path.clone(),
        source,
    })?;
    EmulatorConfig::from_yaml(&text).map_err(|e| ServeError::Invalid {
        path,
        message: e.to_string(),
    })
}

/// `my-key-vault` in the first tenant, RBAC, with the first app as Key Vault Secrets Officer
/// (the default world of `harness serve`).
#[must_use]
pub fn default_vaults(directory: &Directory) -> EmulatorConfig {
    let tenant = directory.tenants.first();
    let role_assignments = tenant
        .and_then(|t| t.apps.first())
        .map(|app| RoleAssignment {
            id: Uuid::new_v4(),
            principal_id: app.object_id,
            role: "Key Vault Secrets Officer".to_owned(),
            scope: "/".to_owned(),
        })
        .into_iter()
        .collect();
    let mut vault = VaultSpec::new(DEFAULT_VAULT, tenant.map_or(Uuid::nil(), |t| t.id));
    vault.authorization = Authorization::Rbac;
    vault.role_assignments = role_assignments;
    EmulatorConfig {
        vaults: vec![vault],
        default_vault: Some(DEFAULT_VAULT.to_owned()),
    }
}

fn load_directory(options: &Options) -> Result<Directory, ServeError> {
    let saved = options.state_dir.join(DIRECTORY_FILE);
    let read = |path: &Path| {
        let text = std::fs::read_to_string(path).map_err(|source| ServeError::State {
            path: path.to_path_buf(),
            source,
        })?;
        Directory::from_yaml(&text).map_err(|e| ServeError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    };
    let directory = match &options.directory {
        Some(path) => read(path)?,
        None if saved.exists() => return read(&saved),
        None => default_directory(),
    };
    // A restart on this state directory alone must find the same tenants and credentials
    // the vault state's role assignments name.
    write_json(&saved, &directory)?;
    Ok(directory)
}

/// Writes `value` as JSON to a state file, crash-safe.
fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), ServeError> {
    let text = serde_json::to_vec_pretty(value).expect("state serialises");
    fake_kit::durable::write_atomic(path, &text).map_err(|source| ServeError::State {
        path: path.to_path_buf(),
        source,
    })
}

/// One tenant, an app registration with a client secret, and a managed identity: the world
/// the seed articles assume, with fresh ids.
#[must_use]
pub fn default_directory() -> Directory {
    Directory {
        tenants: vec![Tenant {
            id: Uuid::new_v4(),
            display_name: "Default Directory".to_owned(),
            domains: vec!["harness.onmicrosoft.com".to_owned()],
            apps: vec![App {
                app_id: Uuid::new_v4(),
                object_id: Uuid::new_v4(),
                display_name: "eso-app".to_owned(),
                secrets: vec![ClientSecret {
                    key_id: Uuid::new_v4(),
                    value: format!("harness~{}", Uuid::new_v4().simple()),
                    start: None,
                    end: None,
                }],
                certificates: vec![],
                federated_credentials: vec![],
            }],
            managed_identities: vec![ManagedIdentity {
                name: "eso-identity".to_owned(),
                client_id: Uuid::new_v4(),
                principal_id: Uuid::new_v4(),
                resource_id: None,
                federated_credentials: vec![],
            }],
        }],
        issuers: vec![],
        default_managed_identity: None,
    }
}

fn first_secret(directory: &Directory) -> Option<(Uuid, Uuid, String)> {
    directory.tenants.iter().find_map(|tenant| {
        tenant.apps.iter().find_map(|app| {
            app.secrets
                .first()
                .map(|secret| (tenant.id, app.app_id, secret.value.clone()))
        })
    })
}

fn shell_quote(value: &str) -> String {
    if value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:,~@".contains(c))
    {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}
