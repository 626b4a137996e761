//! [`AppState`]: the vaults, the clock, the audit log, the fault plan and the token verifier.
//! The only state handlers receive.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use axum::http::{HeaderValue, StatusCode};
use fake_kit::Clock;

use crate::audit::AuditLog;
use crate::auth::token::TokenVerifier;
use crate::certificates::store::{CertificateMaterial, CertificateStore};
use crate::keys::store::{KeyMaterial, KeyStore};
use crate::limits;
use crate::persist::{
    self, Journal, Journaled, KindChange, PersistError, Record, Snapshot, VaultState,
    folding_journal_path, journal_path, read_journal,
};
use crate::secrets::backup::BackupKey;
use crate::secrets::store::{NewSecretVersion, SecretStore, SecretValue};
use crate::store::{Change, ObjectStore, Retention};
use crate::vault::{EmulatorConfig, SpecError, VaultSpec};

/// Settings that are not per vault.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `x-ms-keyvault-service-version` (the newest seen in recordings, §2.3).
    pub service_version: String,
    /// Authority base in the global cloud's 401 challenge.
    pub challenge_authority: String,
    /// Where the state is kept durably (`persist`); in memory only when `None`.
    /// Call [`AppState::persist`] once before serving: it writes the first snapshot and
    /// starts the journal.
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
    /// The lower-cased name, as journal records name it.
    key: String,
    /// Swapped whole on change, so every request reads it with a pointer copy.
    spec: RwLock<Arc<VaultSpec>>,
    secrets: Mutex<SecretStore>,
    keys: Mutex<KeyStore>,
    certificates: Mutex<CertificateStore>,
    /// The service-limit window (charged only when the spec has `serviceLimits`).
    window: Mutex<limits::Window>,
    journal: Option<Arc<Journal>>,
}

/// A locked store of one vault; on release, the changes made through it go to the journal
/// (while the lock is still held, so records of one object keep the store's order).
pub struct StoreGuard<'a, P: Journaled> {
    store: MutexGuard<'a, ObjectStore<P>>,
    vault: &'a Vault,
}

impl<P: Journaled> Deref for StoreGuard<'_, P> {
    type Target = ObjectStore<P>;
    fn deref(&self) -> &ObjectStore<P> {
        &self.store
    }
}

impl<P: Journaled> DerefMut for StoreGuard<'_, P> {
    fn deref_mut(&mut self) -> &mut ObjectStore<P> {
        &mut self.store
    }
}

impl<P: Journaled> Drop for StoreGuard<'_, P> {
    fn drop(&mut self) {
        let changes = self.store.take_changes();
        if let Some(journal) = &self.vault.journal
            && !changes.is_empty()
        {
            journal.append(&self.vault.key, &changes);
        }
    }
}

impl Vault {
    fn new(spec: VaultSpec, now: i64, journal: Option<Arc<Journal>>) -> Self {
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
        // A new vault reaches disk in the snapshot its creation triggers, not in the journal.
        store.take_changes();
        let vault = Self {
            key: spec.name.to_ascii_lowercase(),
            spec: RwLock::new(Arc::new(spec)),
            secrets: Mutex::new(store),
            keys: Mutex::new(KeyStore::default()),
            certificates: Mutex::new(CertificateStore::default()),
            window: Mutex::default(),
            journal,
        };
        vault.configure_stores();
        vault
    }

    fn restore(state: VaultState, journal: Option<Arc<Journal>>) -> Result<Self, PersistError> {
        let vault = Self {
            key: state.spec.name.to_ascii_lowercase(),
            spec: RwLock::new(Arc::new(state.spec)),
            secrets: Mutex::new(persist::rebuild(state.secrets)?),
            keys: Mutex::new(persist::rebuild(state.keys)?),
            certificates: Mutex::new(persist::rebuild(state.certificates)?),
            window: Mutex::default(),
            journal,
        };
        vault.configure_stores();
        Ok(vault)
    }

    /// Hands the spec's settings that the stores enforce to every object kind.
    fn configure_stores(&self) {
        let delay = self.spec().deletion_delay_seconds;
        self.secrets().set_deletion_delay(delay);
        self.keys().set_deletion_delay(delay);
        self.certificates().set_deletion_delay(delay);
    }

    /// Charges a request's cost against the vault's service limits at `now`: `Err` with the
    /// seconds left in the window (and whether to say so in `Retry-After`) when it would
    /// overdraw a budget. Vaults without `serviceLimits` never refuse, and never work out a
    /// cost (it may read the key store).
    pub(crate) fn charge(
        &self,
        cost: impl FnOnce() -> limits::Cost,
        now: i64,
    ) -> Result<(), (u32, bool)> {
        let spec = self.spec();
        let Some(limits) = &spec.service_limits else {
            return Ok(());
        };
        let cost = cost();
        self.window
            .lock()
            .expect("service-limit window lock")
            .charge(limits, cost, now)
            .map_err(|left| (left, limits.retry_after))
    }

    /// Settles every object kind's pending deletes and recovers and purges what is due, so
    /// that the request at `now` reads the store as of `now`.
    pub fn sweep(&self, now: i64) {
        self.secrets().sweep(now);
        self.keys().sweep(now);
        self.certificates().sweep(now);
    }

    /// Every store of the vault, locked at once, for a consistent capture. The order
    /// (certificates first) is the one handlers follow: they never take the certificate lock
    /// while holding a secret or key guard.
    fn lock_all(&self) -> LockedVault<'_> {
        let mut spec = VaultSpec::clone(&self.spec());
        // Seeds were planted when the vault was created; they are among the secrets now.
        spec.secrets.clear();
        (
            spec,
            self.certificates.lock().expect("certificate store lock"),
            self.secrets.lock().expect("secret store lock"),
            self.keys.lock().expect("key store lock"),
        )
    }

    /// Changes the configuration under its lock (so concurrent changes never lose one
    /// another); keeps the old one when `change` fails or the result is invalid.
    pub(crate) fn change_spec<T, E: From<SpecError>>(
        &self,
        change: impl FnOnce(&mut VaultSpec) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut current = self.spec.write().expect("vault spec lock");
        let mut spec = VaultSpec::clone(&current);
        let result = change(&mut spec)?;
        spec.validate()?;
        *current = Arc::new(spec);
        Ok(result)
    }

    /// The configuration.
    #[must_use]
    pub fn spec(&self) -> Arc<VaultSpec> {
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
    pub(crate) fn secrets(&self) -> StoreGuard<'_, SecretValue> {
        StoreGuard {
            store: self.secrets.lock().expect("secret store lock"),
            vault: self,
        }
    }

    /// The key store, locked. Never hold the guard across an `.await`.
    pub(crate) fn keys(&self) -> StoreGuard<'_, KeyMaterial> {
        StoreGuard {
            store: self.keys.lock().expect("key store lock"),
            vault: self,
        }
    }

    /// The certificate store, locked. Never hold the guard across an `.await`, nor take it
    /// while holding the secret or key store's guard.
    pub(crate) fn certificates(&self) -> StoreGuard<'_, CertificateMaterial> {
        StoreGuard {
            store: self.certificates.lock().expect("certificate store lock"),
            vault: self,
        }
    }
}

/// A vault's spec and stores as [`Vault::lock_all`] holds them.
type LockedVault<'a> = (
    VaultSpec,
    MutexGuard<'a, CertificateStore>,
    MutexGuard<'a, SecretStore>,
    MutexGuard<'a, KeyStore>,
);

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
    /// `settings.service_version` as a header, validated once rather than per response.
    service_version: Option<HeaderValue>,
    backup_key: BackupKey,
    journal: Option<Arc<Journal>>,
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
        let journal = journal(&settings, 0);
        let mut vaults = BTreeMap::new();
        for spec in config.vaults {
            spec.validate()?;
            vaults.insert(
                spec.name.to_ascii_lowercase(),
                Arc::new(Vault::new(spec, now, journal.clone())),
            );
        }
        Ok(Self::assemble(
            vaults,
            config.default_vault,
            clock,
            settings,
            BackupKey::random(),
            journal,
        ))
    }

    /// State exactly as a [`Snapshot`] recorded it (objects, versions, deletions, backup key).
    pub fn from_snapshot(
        snapshot: Snapshot,
        clock: Clock,
        settings: Settings,
    ) -> Result<Self, PersistError> {
        let key = BackupKey::from_bytes(snapshot.backup_key_bytes()?);
        let journal = journal(&settings, snapshot.journal_seq);
        let mut vaults = BTreeMap::new();
        for vault in snapshot.vaults {
            vault
                .spec
                .validate()
                .map_err(|e| PersistError::Invalid(e.to_string()))?;
            vaults.insert(
                vault.spec.name.to_ascii_lowercase(),
                Arc::new(Vault::restore(vault, journal.clone())?),
            );
        }
        Ok(Self::assemble(
            vaults,
            snapshot.default_vault,
            clock,
            settings,
            key,
            journal,
        ))
    }

    fn assemble(
        vaults: BTreeMap<String, Arc<Vault>>,
        default_vault: Option<String>,
        clock: Clock,
        settings: Settings,
        backup_key: BackupKey,
        journal: Option<Arc<Journal>>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                vaults: RwLock::new(vaults),
                default_vault: RwLock::new(default_vault),
                clock,
                audit: AuditLog::default(),
                faults: Mutex::new(FaultPlan::default()),
                verifier: RwLock::new(Arc::new(TokenVerifier::none())),
                service_version: HeaderValue::from_str(&settings.service_version).ok(),
                settings,
                backup_key,
                journal,
            }),
        }
    }

    /// The whole state as a [`Snapshot`], consistent across vaults and kinds: every store is
    /// captured under its lock, all at once, so no change (and no journal record) happens
    /// between the first store and the last, and `journalSeq` is read under those locks.
    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        let vaults = self.inner.vaults.read().expect("vaults lock");
        let locked: Vec<_> = vaults.values().map(|v| v.lock_all()).collect();
        let journal_seq = self.inner.journal.as_ref().map_or(0, |j| j.seq());
        Snapshot {
            format: persist::FORMAT,
            default_vault: self.default_vault(),
            backup_key: Snapshot::encode_backup_key(self.inner.backup_key.to_bytes()),
            journal_seq,
            vaults: locked
                .into_iter()
                .map(|(spec, certificates, secrets, keys)| VaultState {
                    spec,
                    secrets: persist::capture(&secrets),
                    keys: persist::capture(&keys),
                    certificates: persist::capture(&certificates),
                })
                .collect(),
        }
    }

    /// Whether changes are persisted ([`Settings::state_file`]).
    #[must_use]
    pub fn is_durable(&self) -> bool {
        self.inner.journal.is_some()
    }

    /// Writes a fresh snapshot and empties the journal (blocking: call off the async runtime
    /// in handlers). A no-op without a state file.
    pub fn persist(&self) -> Result<(), PersistError> {
        let Some(journal) = &self.inner.journal else {
            return Ok(());
        };
        journal.compact(|| self.snapshot())
    }

    /// Makes every change made so far durable through the journal (blocking). A no-op
    /// without a state file.
    pub fn sync(&self) -> Result<(), PersistError> {
        let Some(journal) = &self.inner.journal else {
            return Ok(());
        };
        journal.sync_through(journal.seq(), || self.snapshot())
    }

    /// Applies journal records, in order, to this state (replay at load).
    pub(crate) fn replay(&self, records: Vec<Record>) -> Result<(), PersistError> {
        // Stores never see each other's changes: each store's are applied in order, under
        // one lock.
        let mut by_vault: BTreeMap<String, VaultChanges> = BTreeMap::new();
        for record in records {
            let changes = by_vault.entry(record.vault).or_default();
            match record.change {
                KindChange::Secrets(c) => changes.secrets.push((record.seq, c.into_domain()?)),
                KindChange::Keys(c) => changes.keys.push((record.seq, c.into_domain()?)),
                KindChange::Certificates(c) => {
                    changes.certificates.push((record.seq, c.into_domain()?));
                }
            }
        }
        let invalid = |(seq, e)| PersistError::Invalid(format!("journal record {seq}: {e}"));
        for (name, changes) in by_vault {
            // A write racing the removal of its vault; the vault is gone, so is the write.
            let Some(vault) = self.vault(&name) else {
                continue;
            };
            vault
                .secrets()
                .apply_all(changes.secrets)
                .map_err(invalid)?;
            vault.keys().apply_all(changes.keys).map_err(invalid)?;
            vault
                .certificates()
                .apply_all(changes.certificates)
                .map_err(invalid)?;
        }
        Ok(())
    }

    /// The state file, if any.
    #[must_use]
    pub fn state_file(&self) -> Option<&std::path::Path> {
        self.inner.journal.as_deref().map(Journal::snapshot_path)
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

    pub(crate) fn service_version_header(&self) -> Option<&HeaderValue> {
        self.inner.service_version.as_ref()
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
            .map(|v| v.spec().name.clone())
            .collect()
    }

    /// Creates a vault, or replaces the configuration of an existing one while keeping its
    /// objects. Returns whether it was created.
    pub fn put_vault(&self, spec: VaultSpec) -> Result<bool, SpecError> {
        spec.validate()?;
        let key = spec.name.to_ascii_lowercase();
        let mut vaults = self.inner.vaults.write().expect("vaults lock");
        if let Some(existing) = vaults.get(&key) {
            *existing.spec.write().expect("vault spec lock") = Arc::new(spec);
            existing.configure_stores();
            return Ok(false);
        }
        vaults.insert(
            key,
            Arc::new(Vault::new(
                spec,
                self.inner.clock.unix(),
                self.inner.journal.clone(),
            )),
        );
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

/// A vault's journaled changes, by store, each with its record's `seq`.
#[derive(Default)]
struct VaultChanges {
    secrets: Vec<(u64, Change<SecretValue>)>,
    keys: Vec<(u64, Change<KeyMaterial>)>,
    certificates: Vec<(u64, Change<CertificateMaterial>)>,
}

fn journal(settings: &Settings, seq: u64) -> Option<Arc<Journal>> {
    settings
        .state_file
        .clone()
        .map(|path| Arc::new(Journal::new(path, seq)))
}

/// Loading lives beside the state it replays the journal into, so that `persist`
/// knows nothing of [`AppState`].
impl Snapshot {
    /// Reads a state file and replays its journal, the segment being folded first;
    /// `None` when there is no state file yet. Works beside a running fake (`harness export`):
    /// a compaction between reading the snapshot and the segments shows as a gap in `seq`,
    /// and they are read again.
    pub fn load(path: &Path) -> Result<Option<Self>, PersistError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let Some(snapshot) = Self::read(path)? else {
                return Ok(None);
            };
            let mut records = read_journal(&folding_journal_path(path))?;
            records.extend(read_journal(&journal_path(path))?);
            records.retain(|r| r.seq > snapshot.journal_seq);
            let continuous = records
                .iter()
                .zip(snapshot.journal_seq + 1..)
                .all(|(record, seq)| record.seq == seq);
            if !continuous {
                if attempts < 3 {
                    continue;
                }
                return Err(PersistError::Invalid(format!(
                    "{}: the journal does not continue the snapshot (journalSeq {})",
                    journal_path(path).display(),
                    snapshot.journal_seq
                )));
            }
            let Some(last) = records.last().map(|r| r.seq) else {
                return Ok(Some(snapshot));
            };
            let state = AppState::from_snapshot(snapshot, Clock::system(), Settings::default())?;
            state.replay(records)?;
            return Ok(Some(Self {
                journal_seq: last,
                ..state.snapshot()
            }));
        }
    }
}
