//! [`AppState`]: the vaults, the clock, the audit log, the fault plan and the token verifier.
//! The only state handlers receive.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use axum::http::StatusCode;
use fake_kit::Clock;

use crate::audit::AuditLog;
use crate::auth::token::TokenVerifier;
use crate::certificates::store::CertificateStore;
use crate::keys::store::KeyStore;
use crate::persist::{self, PersistError, Persister, Snapshot, VaultState};
use crate::secrets::backup::BackupKey;
use crate::secrets::store::{NewSecretVersion, SecretStore, SecretValue};
use crate::store::Retention;
use crate::vault::{EmulatorConfig, SpecError, VaultSpec};

/// Settings that are not per vault.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `x-ms-keyvault-service-version` (the newest seen in recordings, §2.3).
    pub service_version: String,
    /// Authority base in the global cloud's 401 challenge.
    pub challenge_authority: String,
    /// Where the state is kept durably ([`crate::persist`]); in memory only when `None`.
    pub state_file: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            service_version: "1.9.3070.1".to_owned(),
            challenge_authority: "https://login.microsoftonline.com".to_owned(),
            state_file: None,
        }
    }
}

/// One vault: its configuration and its objects.
#[derive(Debug)]
pub struct Vault {
    spec: RwLock<VaultSpec>,
    secrets: Mutex<SecretStore>,
    keys: Mutex<KeyStore>,
    certificates: Mutex<CertificateStore>,
}

impl Vault {
    fn new(spec: VaultSpec, now: i64) -> Self {
        let mut store = SecretStore::default();
        for seed in &spec.secrets {
            let seeded = store.set(
                &seed.name,
                NewSecretVersion {
                    payload: SecretValue {
                        value: seed.value.clone(),
                        content_type: seed.content_type.clone(),
                    },
                    tags: seed.tags.clone(),
                    enabled: seed.enabled,
                    not_before: seed.not_before,
                    expires: seed.expires,
                },
                now,
            );
            if let Err(error) = seeded {
                tracing::warn!(%error, secret = %seed.name, "seed secret not created");
            }
        }
        let vault = Self {
            spec: RwLock::new(spec),
            secrets: Mutex::new(store),
            keys: Mutex::new(KeyStore::default()),
            certificates: Mutex::new(CertificateStore::default()),
        };
        vault.configure_stores();
        vault
    }

    fn restore(state: VaultState) -> Result<Self, PersistError> {
        let vault = Self {
            spec: RwLock::new(state.spec),
            secrets: Mutex::new(persist::rebuild(state.secrets)?),
            keys: Mutex::new(persist::rebuild(state.keys)?),
            certificates: Mutex::new(persist::rebuild(state.certificates)?),
        };
        vault.configure_stores();
        Ok(vault)
    }

    /// Hands the spec's settings that the stores enforce to every object kind.
    fn configure_stores(&self) {
        let delay = self
            .spec
            .read()
            .expect("vault spec lock")
            .deletion_delay_seconds;
        self.secrets().set_deletion_delay(delay);
        self.keys().set_deletion_delay(delay);
        self.certificates().set_deletion_delay(delay);
    }

    /// Settles every object kind's pending deletes and recovers and purges what is due, so
    /// that the request at `now` reads the store as of `now`.
    pub fn sweep(&self, now: i64) {
        self.secrets().sweep(now);
        self.keys().sweep(now);
        self.certificates().sweep(now);
    }

    fn capture(&self) -> VaultState {
        let mut spec = self.spec();
        // Seeds were planted when the vault was created; they are among the secrets now.
        spec.secrets.clear();
        VaultState {
            spec,
            secrets: persist::capture(&self.secrets()),
            keys: persist::capture(&self.keys()),
            certificates: persist::capture(&self.certificates()),
        }
    }

    /// A copy of the configuration.
    #[must_use]
    pub fn spec(&self) -> VaultSpec {
        self.spec.read().expect("vault spec lock").clone()
    }

    /// The soft-delete settings.
    #[must_use]
    pub fn retention(&self) -> Retention {
        let spec = self.spec.read().expect("vault spec lock");
        Retention {
            days: spec.soft_delete_retention_days,
            purge_protection: spec.purge_protection,
        }
    }

    /// The secret store, locked. Never hold the guard across an `.await`.
    pub fn secrets(&self) -> MutexGuard<'_, SecretStore> {
        self.secrets.lock().expect("secret store lock")
    }

    /// The key store, locked. Never hold the guard across an `.await`.
    pub fn keys(&self) -> MutexGuard<'_, KeyStore> {
        self.keys.lock().expect("key store lock")
    }

    /// The certificate store, locked. Never hold the guard across an `.await`, nor while
    /// holding the secret or key store's guard.
    pub fn certificates(&self) -> MutexGuard<'_, CertificateStore> {
        self.certificates.lock().expect("certificate store lock")
    }
}

/// What the next requests should fail with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultPlan {
    /// How many more data-plane requests fail.
    pub remaining: u32,
    /// The status they fail with (429 answers Key Vault's `Throttled` body).
    pub status: u16,
    /// `Retry-After` seconds on 429s.
    pub retry_after: Option<u32>,
}

/// Handler state.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    vaults: RwLock<BTreeMap<String, Arc<Vault>>>,
    default_vault: RwLock<Option<String>>,
    clock: Clock,
    audit: AuditLog,
    faults: Mutex<FaultPlan>,
    verifier: RwLock<Arc<TokenVerifier>>,
    settings: Settings,
    backup_key: BackupKey,
    persister: Option<Persister>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("vaults", &self.vault_names())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State holding the vaults of `config`, reading time from `clock`. Tokens are refused
    /// until a verifier is installed ([`AppState::set_verifier`]; `FakeAkv::start` does it).
    pub fn new(
        config: EmulatorConfig,
        clock: Clock,
        settings: Settings,
    ) -> Result<Self, SpecError> {
        let now = clock.unix();
        let mut vaults = BTreeMap::new();
        for spec in config.vaults {
            spec.validate()?;
            vaults.insert(
                spec.name.to_ascii_lowercase(),
                Arc::new(Vault::new(spec, now)),
            );
        }
        Ok(Self::assemble(
            vaults,
            config.default_vault,
            clock,
            settings,
            BackupKey::random(),
        ))
    }

    /// State exactly as a [`Snapshot`] recorded it (objects, versions, deletions, backup key).
    pub fn from_snapshot(
        snapshot: Snapshot,
        clock: Clock,
        settings: Settings,
    ) -> Result<Self, PersistError> {
        let key = BackupKey::from_bytes(snapshot.backup_key_bytes()?);
        let mut vaults = BTreeMap::new();
        for vault in snapshot.vaults {
            vault
                .spec
                .validate()
                .map_err(|e| PersistError::Invalid(e.to_string()))?;
            vaults.insert(
                vault.spec.name.to_ascii_lowercase(),
                Arc::new(Vault::restore(vault)?),
            );
        }
        Ok(Self::assemble(
            vaults,
            snapshot.default_vault,
            clock,
            settings,
            key,
        ))
    }

    fn assemble(
        vaults: BTreeMap<String, Arc<Vault>>,
        default_vault: Option<String>,
        clock: Clock,
        settings: Settings,
        backup_key: BackupKey,
    ) -> Self {
        let persister = settings.state_file.clone().map(Persister::new);
        Self {
            inner: Arc::new(Inner {
                vaults: RwLock::new(vaults),
                default_vault: RwLock::new(default_vault),
                clock,
                audit: AuditLog::default(),
                faults: Mutex::new(FaultPlan::default()),
                verifier: RwLock::new(Arc::new(TokenVerifier::none())),
                settings,
                backup_key,
                persister,
            }),
        }
    }

    /// The whole state as a [`Snapshot`].
    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        let vaults = self.inner.vaults.read().expect("vaults lock");
        Snapshot {
            format: persist::FORMAT,
            default_vault: self.default_vault(),
            backup_key: Snapshot::encode_backup_key(self.inner.backup_key.to_bytes()),
            vaults: vaults.values().map(|v| v.capture()).collect(),
        }
    }

    /// Whether changes are persisted ([`Settings::state_file`]).
    #[must_use]
    pub fn is_durable(&self) -> bool {
        self.inner.persister.is_some()
    }

    /// Makes every change made so far durable (blocking: call off the async runtime in
    /// handlers). A no-op without a state file.
    pub fn persist(&self) -> Result<(), PersistError> {
        let Some(persister) = &self.inner.persister else {
            return Ok(());
        };
        let ticket = persister.ticket();
        persister.persist_through(ticket, || self.snapshot())
    }

    /// The state file, if any.
    #[must_use]
    pub fn state_file(&self) -> Option<&std::path::Path> {
        self.inner.persister.as_ref().map(Persister::path)
    }

    /// The clock.
    #[must_use]
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// The audit log.
    #[must_use]
    pub fn audit(&self) -> &AuditLog {
        &self.inner.audit
    }

    /// The settings.
    #[must_use]
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub(crate) fn backup_key(&self) -> &BackupKey {
        &self.inner.backup_key
    }

    /// Installs the token verifier.
    pub fn set_verifier(&self, verifier: TokenVerifier) {
        *self.inner.verifier.write().expect("verifier lock") = Arc::new(verifier);
    }

    pub(crate) fn verifier(&self) -> Arc<TokenVerifier> {
        self.inner.verifier.read().expect("verifier lock").clone()
    }

    /// A vault by name (case-insensitive).
    #[must_use]
    pub fn vault(&self, name: &str) -> Option<Arc<Vault>> {
        self.inner
            .vaults
            .read()
            .expect("vaults lock")
            .get(&name.to_ascii_lowercase())
            .cloned()
    }

    /// The vault answering hosts that name none.
    #[must_use]
    pub fn default_vault(&self) -> Option<String> {
        self.inner
            .default_vault
            .read()
            .expect("default lock")
            .clone()
    }

    /// Sets (or clears) the default vault.
    pub fn set_default_vault(&self, name: Option<String>) {
        *self.inner.default_vault.write().expect("default lock") = name;
    }

    /// Names of all vaults.
    #[must_use]
    pub fn vault_names(&self) -> Vec<String> {
        self.inner
            .vaults
            .read()
            .expect("vaults lock")
            .values()
            .map(|v| v.spec().name)
            .collect()
    }

    /// Creates a vault, or replaces the configuration of an existing one while keeping its
    /// objects. Returns whether it was created.
    pub fn put_vault(&self, spec: VaultSpec) -> Result<bool, SpecError> {
        spec.validate()?;
        let key = spec.name.to_ascii_lowercase();
        let mut vaults = self.inner.vaults.write().expect("vaults lock");
        if let Some(existing) = vaults.get(&key) {
            *existing.spec.write().expect("vault spec lock") = spec;
            existing.configure_stores();
            return Ok(false);
        }
        vaults.insert(key, Arc::new(Vault::new(spec, self.inner.clock.unix())));
        Ok(true)
    }

    /// Removes a vault and everything in it.
    #[must_use]
    pub fn remove_vault(&self, name: &str) -> bool {
        self.inner
            .vaults
            .write()
            .expect("vaults lock")
            .remove(&name.to_ascii_lowercase())
            .is_some()
    }

    /// Replaces the fault plan.
    pub fn set_faults(&self, plan: FaultPlan) {
        *self.inner.faults.lock().expect("faults lock") = plan;
    }

    /// The current fault plan.
    #[must_use]
    pub fn faults(&self) -> FaultPlan {
        *self.inner.faults.lock().expect("faults lock")
    }

    /// Consumes one injected failure, if any is planned.
    pub(crate) fn take_fault(&self) -> Option<(StatusCode, Option<u32>)> {
        let mut plan = self.inner.faults.lock().expect("faults lock");
        if plan.remaining == 0 {
            return None;
        }
        plan.remaining -= 1;
        let status = StatusCode::from_u16(plan.status).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
        Some((status, plan.retry_after))
    }
}
