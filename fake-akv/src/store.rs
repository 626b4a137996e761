//! A vault's objects of one kind (secrets, keys or certificates): versions, common attributes,
//! and the soft-delete state machine. Generic over what a version holds (`P`: a secret's value, a
//! key's public material).
//!
//! No serde, no HTTP. Time comes in as Unix seconds from the caller's `Clock`. Names are
//! case-insensitive (MicrosoftDocs `about-keys-secrets-certificates.md`: "object identifiers
//! are case-insensitive"), so entries are keyed by the lower-cased name and keep the spelling
//! they were created with.
//!
//! States of a name: absent → live (one or more versions) → deleted (recoverable until
//! `scheduled_purge_date`) → recovered (live again) or purged (absent).
//!
//! Key Vault deletes and recovers asynchronously, and SDK pollers depend on it: right after a
//! delete the object is neither live nor listed as deleted (`GET /deletedsecrets/{name}` is 404,
//! purge is 409), and right after a recover it is not yet readable (Azure/azure-sdk-for-python
//! `sdk/keyvault/azure-keyvault-secrets/tests/recordings/test_samples_secrets.test_example_secrets_recover_7_3.yaml`,
//! commit `2f4e3ed443b3`). A store with a [deletion delay](ObjectStore::set_deletion_delay)
//! keeps such a name *settling* until the delay has passed on the caller's clock; the default,
//! 0, makes both take effect at once.
//!
//! Every mutation is also recorded as a [`Change`] (taken with [`ObjectStore::take_changes`]
//! for the journal, replayed with [`ObjectStore::apply`]). Settling is not among them: it
//! lives in memory only, so a store rebuilt from its changes has every delete, recover and
//! purge settled, as after a restart.

use std::collections::{BTreeMap, HashMap};

use fake_kit::chunked::Chunked;
use uuid::Uuid;

/// Tags of a version: Key Vault keeps them per version.
pub type Tags = BTreeMap<String, String>;

/// An object: its name and versions, oldest first (the last one is "latest").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object<P> {
    /// The name as first created.
    pub name: String,
    /// Owned, never shared with readers (they get the name and one version), and chunked, so
    /// a new version is an O(1) push however many versions exist and however many reads run.
    versions: Chunked<Version<P>>,
}

/// One immutable payload with its mutable attributes.
#[allow(clippy::struct_field_names)] // Key Vault's own field names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version<P> {
    /// 32 lower-case hex characters.
    pub version: String,
    /// What the version holds.
    pub payload: P,
    /// `tags`.
    pub tags: Option<Tags>,
    /// `attributes.enabled`.
    pub enabled: bool,
    /// `attributes.nbf`.
    pub not_before: Option<i64>,
    /// `attributes.exp`.
    pub expires: Option<i64>,
    /// `attributes.created`.
    pub created: i64,
    /// `attributes.updated`.
    pub updated: i64,
}

/// The order Key Vault lists an object's versions in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionOrder {
    /// By version id: secrets (`test_list_versions[7.6].json`).
    ById,
    /// Oldest first: keys and certificates.
    ByCreation,
}

/// What a create/set/import request asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewVersion<P> {
    /// The payload.
    pub payload: P,
    /// `tags`.
    pub tags: Option<Tags>,
    /// `attributes.enabled`; enabled unless `false`.
    pub enabled: Option<bool>,
    /// `attributes.nbf`.
    pub not_before: Option<i64>,
    /// `attributes.exp`.
    pub expires: Option<i64>,
}

/// What an update (PATCH) asks for; absent fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionUpdate {
    /// `tags` (replaces the whole map).
    pub tags: Option<Tags>,
    /// `attributes.enabled`.
    pub enabled: Option<bool>,
    /// `attributes.nbf`.
    pub not_before: Option<i64>,
    /// `attributes.exp`.
    pub expires: Option<i64>,
}

/// A soft-deleted object.
#[allow(clippy::struct_field_names)] // Key Vault's own field names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deleted<P> {
    /// The object as it was.
    pub object: Object<P>,
    /// When it was deleted.
    pub deleted_date: i64,
    /// When it disappears for good.
    pub scheduled_purge_date: i64,
}

/// Soft-delete settings of the vault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Days a deleted object stays recoverable (7..=90).
    pub days: u32,
    /// Purge is refused while set.
    pub purge_protection: bool,
}

/// One effect of a mutation on one name, in the order the store made them: what a journal
/// records, and what [`ObjectStore::apply`] replays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change<P> {
    /// A version was added (creating the object, named `name`, on first use) or its
    /// attributes changed; the object may be live or soft-deleted.
    Version {
        /// The object's name as first created.
        name: String,
        /// The version as it now is.
        version: Version<P>,
    },
    /// The object was soft-deleted (or its dates changed).
    Deleted {
        /// The name.
        name: String,
        /// When it was deleted.
        deleted_date: i64,
        /// When it disappears for good.
        scheduled_purge_date: i64,
    },
    /// The soft-deleted object is live again.
    Recovered {
        /// The name.
        name: String,
    },
    /// The soft-deleted object is gone for good (purged, or swept at its purge date).
    Purged {
        /// The name.
        name: String,
    },
    /// A whole object arrived from a backup.
    Restored {
        /// The object.
        object: Object<P>,
    },
}

/// Why a store operation was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No such object (or version).
    #[error("{name} not found")]
    NotFound {
        /// The name asked for.
        name: String,
        /// The version asked for.
        version: Option<String>,
    },
    /// The version is disabled; it cannot be read.
    #[error("object is disabled")]
    Disabled,
    /// The name belongs to a soft-deleted object.
    #[error("{name} is deleted but recoverable")]
    DeletedButRecoverable {
        /// The name.
        name: String,
    },
    /// A restore would overwrite an existing object.
    #[error("{name} already exists")]
    RestoreConflict {
        /// The name.
        name: String,
        /// Latest version of the backup being restored.
        version: String,
    },
    /// Purge refused by purge protection.
    #[error("purge protection is enabled")]
    PurgeProtected,
    /// The object was deleted but its deletion has not settled: not yet readable as deleted.
    #[error("deletion of {name} is still in progress")]
    DeletionInProgress {
        /// The name.
        name: String,
    },
    /// Purge or recover of an object whose deletion has not settled.
    #[error("{name} is currently being deleted")]
    BeingDeleted {
        /// The name.
        name: String,
    },
    /// A new version for a name whose deletion has not settled.
    #[error("{name} is currently being deleted and cannot be re-created")]
    RecreateWhileBeingDeleted {
        /// The name.
        name: String,
    },
}

impl<P> Object<P> {
    /// An object restored from a backup. `None` when `versions` is empty.
    #[must_use]
    pub fn from_versions(name: String, versions: Vec<Version<P>>) -> Option<Self> {
        (!versions.is_empty()).then(|| Self {
            name,
            versions: versions.into_iter().collect(),
        })
    }

    /// The latest version.
    #[must_use]
    pub fn latest(&self) -> &Version<P> {
        self.versions
            .last()
            .expect("an object always has at least one version")
    }

    /// All versions, oldest first.
    #[must_use]
    pub fn versions(&self) -> &Chunked<Version<P>> {
        &self.versions
    }

    fn version(&self, version: Option<&str>) -> Option<&Version<P>> {
        match version {
            None => Some(self.latest()),
            Some(v) => self.versions.iter().find(|s| s.version == v),
        }
    }
}

/// A fresh version id: 32 lower-case hex characters, as Key Vault generates.
#[must_use]
pub fn new_version_id() -> String {
    Uuid::new_v4().simple().to_string()
}

/// The objects of one kind in one vault.
#[derive(Clone, Debug)]
pub struct ObjectStore<P> {
    live: BTreeMap<String, Object<P>>,
    deleted: BTreeMap<String, Deleted<P>>,
    /// Names whose delete (when in `deleted`), recover (when in `live`) or purge (when in
    /// neither) settles at the given time. Not persisted: after a restart every pending change
    /// has settled.
    settling: BTreeMap<String, i64>,
    /// Seconds a delete or recover takes to settle.
    deletion_delay: i64,
    /// Changes made since the last [`ObjectStore::take_changes`].
    changes: Vec<Change<P>>,
}

impl<P> Default for ObjectStore<P> {
    fn default() -> Self {
        Self {
            live: BTreeMap::new(),
            deleted: BTreeMap::new(),
            settling: BTreeMap::new(),
            deletion_delay: 0,
            changes: Vec::new(),
        }
    }
}

fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

fn not_found(name: &str, version: Option<&str>) -> StoreError {
    StoreError::NotFound {
        name: name.to_owned(),
        version: version.map(str::to_owned),
    }
}

impl<P: Clone> ObjectStore<P> {
    /// A store holding `live` and `deleted` objects as they were (a persisted snapshot).
    #[must_use]
    pub fn from_parts(live: Vec<Object<P>>, deleted: Vec<Deleted<P>>) -> Self {
        Self {
            live: live.into_iter().map(|o| (key(&o.name), o)).collect(),
            deleted: deleted
                .into_iter()
                .map(|d| (key(&d.object.name), d))
                .collect(),
            ..Self::default()
        }
    }

    /// The changes made since the last call, oldest first.
    pub fn take_changes(&mut self) -> Vec<Change<P>> {
        std::mem::take(&mut self.changes)
    }

    /// Replays, in order, the changes another store made (journal recovery), each tagged
    /// (with its journal position) so that a failure names the change. Replaying the changes
    /// of a store, in order, onto a copy of its earlier state yields its later state, with
    /// every delete, recover and purge settled (settling is not persisted).
    ///
    /// A version change adds the version or replaces the one with its id. The ids of each
    /// object touched are indexed for the length of the replay: found by a scan, a journal of
    /// n new versions of one secret would take n²/2 comparisons (a write benchmark's fold
    /// of 300,000 versions ran for minutes).
    pub fn apply_all<T>(
        &mut self,
        changes: impl IntoIterator<Item = (T, Change<P>)>,
    ) -> Result<(), (T, StoreError)> {
        let mut index = HashMap::new();
        for (tag, change) in changes {
            self.apply(change, &mut index).map_err(|e| (tag, e))?;
        }
        Ok(())
    }

    /// One change of [`ObjectStore::apply_all`]; `index` holds, by object key, the position
    /// of each version id of the objects touched so far.
    fn apply(
        &mut self,
        change: Change<P>,
        index: &mut HashMap<String, HashMap<String, usize>>,
    ) -> Result<(), StoreError> {
        match change {
            Change::Version { name, version } => {
                let k = key(&name);
                let object = match self.deleted.get_mut(&k) {
                    Some(deleted) => &mut deleted.object,
                    None => self.live.entry(k.clone()).or_insert_with(|| Object {
                        name,
                        versions: Chunked::default(),
                    }),
                };
                let ids = index.entry(k).or_insert_with(|| {
                    object
                        .versions
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (v.version.clone(), i))
                        .collect()
                });
                if let Some(&i) = ids.get(&version.version) {
                    *object.versions.get_mut(i).expect("indexed versions exist") = version;
                } else {
                    ids.insert(version.version.clone(), object.versions.len());
                    object.versions.push(version);
                }
            }
            Change::Deleted {
                name,
                deleted_date,
                scheduled_purge_date,
            } => {
                let k = key(&name);
                let object = match self.live.remove(&k) {
                    Some(object) => object,
                    None => {
                        self.deleted
                            .remove(&k)
                            .ok_or_else(|| not_found(&name, None))?
                            .object
                    }
                };
                self.deleted.insert(
                    k,
                    Deleted {
                        object,
                        deleted_date,
                        scheduled_purge_date,
                    },
                );
            }
            Change::Recovered { name } => {
                let k = key(&name);
                let deleted = self
                    .deleted
                    .remove(&k)
                    .ok_or_else(|| not_found(&name, None))?;
                self.live.insert(k, deleted.object);
            }
            // Deletes and recovers move an object whole, its index still holds; purges and
            // restores drop or replace it.
            Change::Purged { name } => {
                let k = key(&name);
                index.remove(&k);
                self.deleted.remove(&k);
            }
            Change::Restored { object } => {
                let k = key(&object.name);
                index.remove(&k);
                self.live.insert(k, object);
            }
        }
        Ok(())
    }

    /// How long deletes and recovers take to settle from now on (the vault's
    /// `deletionDelaySeconds`); changes already in progress keep their time.
    pub fn set_deletion_delay(&mut self, seconds: u32) {
        self.deletion_delay = i64::from(seconds);
    }

    /// Settles deletes and recovers whose time has come, and forgets deleted objects whose
    /// purge date has passed. Reads see the store as of the last sweep, so callers sweep with
    /// the request's time first.
    pub fn sweep(&mut self, now: i64) {
        self.settling.retain(|_, until| *until > now);
        let changes = &mut self.changes;
        self.deleted.retain(|_, d| {
            let keep = d.scheduled_purge_date > now;
            if !keep {
                changes.push(Change::Purged {
                    name: d.object.name.clone(),
                });
            }
            keep
        });
    }

    fn settled(&self, k: &str) -> bool {
        !self.settling.contains_key(k)
    }

    fn start_settling(&mut self, k: String, now: i64) {
        if self.deletion_delay > 0 {
            self.settling.insert(k, now + self.deletion_delay);
        }
    }

    /// A live object clients can see: not still being recovered.
    fn visible(&self, name: &str) -> Option<&Object<P>> {
        let k = key(name);
        self.live.get(&k).filter(|_| self.settled(&k))
    }

    /// Adds a version (creating the object on first use) and returns the object's name and
    /// the new version.
    pub fn set(
        &mut self,
        name: &str,
        new: NewVersion<P>,
        now: i64,
    ) -> Result<(String, Version<P>), StoreError> {
        self.set_version(name, new_version_id(), new, now)
    }

    /// As [`ObjectStore::set`], under a version id chosen by the caller: a certificate's key
    /// and secret share its version id.
    pub fn set_version(
        &mut self,
        name: &str,
        version: String,
        new: NewVersion<P>,
        now: i64,
    ) -> Result<(String, Version<P>), StoreError> {
        self.sweep(now);
        let k = key(name);
        if self.deleted.contains_key(&k) && self.settled(&k) {
            return Err(StoreError::DeletedButRecoverable {
                name: name.to_owned(),
            });
        }
        // Being deleted, or being purged (settling but neither live nor deleted).
        if !self.live.contains_key(&k) && !self.settled(&k) {
            return Err(StoreError::RecreateWhileBeingDeleted {
                name: name.to_owned(),
            });
        }
        let version = Version {
            version,
            payload: new.payload,
            tags: new.tags,
            enabled: new.enabled.unwrap_or(true),
            not_before: new.not_before,
            expires: new.expires,
            created: now,
            updated: now,
        };
        let object = self.live.entry(k).or_insert_with(|| Object {
            name: name.to_owned(),
            versions: Chunked::default(),
        });
        object.versions.push(version.clone());
        self.changes.push(Change::Version {
            name: object.name.clone(),
            version: version.clone(),
        });
        Ok((object.name.clone(), version))
    }

    /// A version (latest when `version` is `None`) for reading: disabled versions are refused.
    pub fn get(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<(String, Version<P>), StoreError> {
        let (object, found) = self.find(name, version)?;
        if !found.enabled {
            return Err(StoreError::Disabled);
        }
        Ok((object, found))
    }

    /// A version (latest when `version` is `None`), enabled or not.
    pub fn find(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<(String, Version<P>), StoreError> {
        let object = self.visible(name).ok_or_else(|| not_found(name, version))?;
        let found = object
            .version(version)
            .ok_or_else(|| not_found(name, version))?;
        Ok((object.name.clone(), found.clone()))
    }

    /// Changes a version's attributes and tags, and its payload through `change`.
    pub fn update(
        &mut self,
        name: &str,
        version: Option<&str>,
        update: VersionUpdate,
        change: impl FnOnce(&mut P),
        now: i64,
    ) -> Result<(String, Version<P>), StoreError> {
        let k = key(name);
        if !self.settled(&k) {
            return Err(not_found(name, version));
        }
        let object = self
            .live
            .get_mut(&k)
            .ok_or_else(|| not_found(name, version))?;
        let index = match version {
            None => object.versions.len() - 1,
            Some(v) => object
                .versions
                .iter()
                .position(|s| s.version == v)
                .ok_or_else(|| not_found(name, Some(v)))?,
        };
        let target = object
            .versions
            .get_mut(index)
            .expect("the index was just found");
        change(&mut target.payload);
        if let Some(tags) = update.tags {
            target.tags = Some(tags);
        }
        if let Some(enabled) = update.enabled {
            target.enabled = enabled;
        }
        if update.not_before.is_some() {
            target.not_before = update.not_before;
        }
        if update.expires.is_some() {
            target.expires = update.expires;
        }
        target.updated = now;
        let found = target.clone();
        self.changes.push(Change::Version {
            name: object.name.clone(),
            version: found.clone(),
        });
        Ok((object.name.clone(), found))
    }

    /// Whether a live object clients can see has this name.
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.visible(name).is_some()
    }

    /// Every live object in name order, recovering ones included (for persistence and the
    /// admin API).
    pub fn list(&self) -> impl Iterator<Item = &Object<P>> {
        self.live.values()
    }

    /// The live objects clients see, in name order (Key Vault lists lexicographically, §2.5).
    pub fn listed(&self) -> impl Iterator<Item = &Object<P>> {
        self.live
            .iter()
            .filter(|(k, _)| self.settled(k))
            .map(|(_, o)| o)
    }

    /// Versions of a live object, oldest first; empty when there is no such object (Key Vault
    /// answers 200 with an empty page, `GetSecretVersionsNonExisting.json`).
    #[must_use]
    pub fn versions(&self, name: &str) -> Vec<Version<P>> {
        self.visible(name)
            .map(|s| s.versions.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// One page of a live object's versions in `order`: those whose paging key sorts after
    /// `marker`, at most `size`, each with its key, and whether more follow. Only the page is
    /// cloned, so paging through an object with many versions stays linear per page.
    #[must_use]
    pub fn versions_page(
        &self,
        name: &str,
        order: VersionOrder,
        marker: Option<&str>,
        size: usize,
    ) -> (Vec<(String, Version<P>)>, bool) {
        let Some(object) = self.visible(name) else {
            return (Vec::new(), false);
        };
        match order {
            VersionOrder::ById => {
                let mut after: Vec<&Version<P>> = object
                    .versions
                    .iter()
                    .filter(|v| marker.is_none_or(|m| v.version.as_str() > m))
                    .collect();
                let more = after.len() > size;
                if more {
                    after.select_nth_unstable_by(size, |a, b| a.version.cmp(&b.version));
                    after.truncate(size);
                }
                after.sort_unstable_by(|a, b| a.version.cmp(&b.version));
                let page = after
                    .into_iter()
                    .map(|v| (v.version.clone(), v.clone()))
                    .collect();
                (page, more)
            }
            VersionOrder::ByCreation => {
                let start = marker
                    .and_then(|m| m.parse::<usize>().ok())
                    .map_or(0, |last| last + 1);
                let total = object.versions.len();
                let page = object
                    .versions
                    .iter_from(start)
                    .take(size)
                    .enumerate()
                    .map(|(i, v)| (format!("{:010}", start + i), v.clone()))
                    .collect();
                (page, start + size < total)
            }
        }
    }

    /// Soft-deletes an object with all its versions.
    pub fn delete(
        &mut self,
        name: &str,
        now: i64,
        retention: Retention,
    ) -> Result<Deleted<P>, StoreError> {
        self.sweep(now);
        if self.visible(name).is_none() {
            return Err(not_found(name, None));
        }
        let k = key(name);
        let object = self.live.remove(&k).ok_or_else(|| not_found(name, None))?;
        let deleted = Deleted {
            object,
            deleted_date: now,
            scheduled_purge_date: now + i64::from(retention.days) * 86_400,
        };
        self.changes.push(Change::Deleted {
            name: deleted.object.name.clone(),
            deleted_date: deleted.deleted_date,
            scheduled_purge_date: deleted.scheduled_purge_date,
        });
        self.deleted.insert(k.clone(), deleted.clone());
        self.start_settling(k, now);
        Ok(deleted)
    }

    /// A soft-deleted object whose deletion has settled.
    pub fn deleted(&self, name: &str) -> Result<Deleted<P>, StoreError> {
        let k = key(name);
        let deleted = self.deleted.get(&k).ok_or_else(|| not_found(name, None))?;
        if !self.settled(&k) {
            return Err(StoreError::DeletionInProgress {
                name: name.to_owned(),
            });
        }
        Ok(deleted.clone())
    }

    /// Every soft-deleted object in name order, settling ones included (for persistence and
    /// the admin API).
    pub fn list_deleted(&self) -> impl Iterator<Item = &Deleted<P>> {
        self.deleted.values()
    }

    /// The soft-deleted objects clients see: those whose deletion has settled.
    pub fn listed_deleted(&self) -> impl Iterator<Item = &Deleted<P>> {
        self.deleted
            .iter()
            .filter(|(k, _)| self.settled(k))
            .map(|(_, d)| d)
    }

    /// Brings a soft-deleted object back; it becomes readable once the recovery settles.
    pub fn recover(&mut self, name: &str, now: i64) -> Result<Object<P>, StoreError> {
        self.sweep(now);
        let k = key(name);
        self.refuse_while_deleting(&k, name)?;
        let deleted = self
            .deleted
            .remove(&k)
            .ok_or_else(|| not_found(name, None))?;
        self.changes.push(Change::Recovered {
            name: deleted.object.name.clone(),
        });
        self.live.insert(k.clone(), deleted.object.clone());
        self.start_settling(k, now);
        Ok(deleted.object)
    }

    fn refuse_while_deleting(&self, k: &str, name: &str) -> Result<(), StoreError> {
        if self.deleted.contains_key(k) && !self.settled(k) {
            return Err(StoreError::BeingDeleted {
                name: name.to_owned(),
            });
        }
        Ok(())
    }

    /// Removes a soft-deleted object for good.
    pub fn purge(&mut self, name: &str, now: i64, retention: Retention) -> Result<(), StoreError> {
        self.sweep(now);
        let k = key(name);
        if !self.deleted.contains_key(&k) {
            return Err(not_found(name, None));
        }
        self.refuse_while_deleting(&k, name)?;
        if retention.purge_protection {
            return Err(StoreError::PurgeProtected);
        }
        if let Some(purged) = self.deleted.remove(&k) {
            self.changes.push(Change::Purged {
                name: purged.object.name,
            });
        }
        // Purges settle too: Key Vault refuses a restore of the name right after a purge
        // (409, then 200 seconds later: `test_backup_restore[7.6].json`).
        self.start_settling(k, now);
        Ok(())
    }

    /// Restores a backed-up object under its own name, versions and all.
    pub fn restore(&mut self, object: Object<P>, now: i64) -> Result<Object<P>, StoreError> {
        self.sweep(now);
        let k = key(&object.name);
        if self.live.contains_key(&k) || self.deleted.contains_key(&k) || !self.settled(&k) {
            return Err(StoreError::RestoreConflict {
                name: object.name.clone(),
                version: object.latest().version.clone(),
            });
        }
        self.live.insert(k, object.clone());
        self.changes.push(Change::Restored {
            object: object.clone(),
        });
        Ok(object)
    }

    /// A live object's name as it was created (names are case-insensitive), without cloning
    /// the object and its versions.
    #[must_use]
    pub fn display_name(&self, name: &str) -> Option<String> {
        self.visible(name).map(|o| o.name.clone())
    }

    /// The live object with all versions (for backup).
    pub fn object(&self, name: &str) -> Result<Object<P>, StoreError> {
        self.visible(name)
            .cloned()
            .ok_or_else(|| not_found(name, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RETENTION: Retention = Retention {
        days: 90,
        purge_protection: false,
    };

    fn value(v: &str) -> NewVersion<String> {
        NewVersion {
            payload: v.to_owned(),
            ..NewVersion::default()
        }
    }

    #[test]
    fn set_adds_versions_and_latest_is_the_newest() {
        let mut store = ObjectStore::default();
        let (_, first) = store.set("Db-Pass", value("a"), 10).unwrap();
        let (_, second) = store.set("db-pass", value("b"), 20).unwrap();
        assert_eq!(first.version.len(), 32);
        assert!(
            first
                .version
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        let (name, latest) = store.get("DB-PASS", None).unwrap();
        assert_eq!(name, "Db-Pass");
        assert_eq!(latest.payload, "b");
        assert_eq!(latest.version, second.version);
        assert_eq!(
            store
                .get("db-pass", Some(&first.version))
                .unwrap()
                .1
                .payload,
            "a"
        );
        assert_eq!(store.versions("db-pass").len(), 2);
    }

    #[test]
    fn get_of_a_disabled_version_is_refused() {
        let mut store = ObjectStore::default();
        store
            .set(
                "s",
                NewVersion {
                    enabled: Some(false),
                    ..value("x")
                },
                1,
            )
            .unwrap();
        assert_eq!(store.get("s", None), Err(StoreError::Disabled));
        store
            .update(
                "s",
                None,
                VersionUpdate {
                    enabled: Some(true),
                    ..VersionUpdate::default()
                },
                |p| p.push('!'),
                2,
            )
            .unwrap();
        let (_, got) = store.get("s", None).unwrap();
        assert_eq!((got.updated, got.payload.as_str()), (2, "x!"));
    }

    #[test]
    fn soft_delete_lifecycle_recover_and_purge() {
        let mut store = ObjectStore::default();
        store.set("s", value("x"), 0).unwrap();
        let deleted = store.delete("s", 100, RETENTION).unwrap();
        assert_eq!(deleted.scheduled_purge_date, 100 + 90 * 86_400);
        assert!(matches!(
            store.get("s", None),
            Err(StoreError::NotFound { .. })
        ));
        assert_eq!(
            store.set("s", value("y"), 101),
            Err(StoreError::DeletedButRecoverable { name: "s".into() })
        );
        store.recover("s", 102).unwrap();
        assert_eq!(store.get("s", None).unwrap().1.payload, "x");
        store.delete("s", 103, RETENTION).unwrap();
        store.purge("s", 104, RETENTION).unwrap();
        assert!(store.deleted("s").is_err());
        store.set("s", value("z"), 105).unwrap();
    }

    #[test]
    fn deleted_objects_are_purged_when_their_date_passes() {
        let mut store = ObjectStore::default();
        store.set("s", value("x"), 0).unwrap();
        let retention = Retention {
            days: 7,
            purge_protection: true,
        };
        store.delete("s", 0, retention).unwrap();
        assert_eq!(
            store.purge("s", 1, retention),
            Err(StoreError::PurgeProtected)
        );
        store.sweep(7 * 86_400 - 1);
        assert!(store.deleted("s").is_ok());
        store.sweep(7 * 86_400);
        assert!(store.deleted("s").is_err());
    }

    #[test]
    fn restore_conflicts_with_live_or_deleted_names() {
        let mut store = ObjectStore::default();
        store.set("s", value("x"), 0).unwrap();
        let backup = store.object("s").unwrap();
        assert!(matches!(
            store.restore(backup.clone(), 1),
            Err(StoreError::RestoreConflict { .. })
        ));
        store.delete("s", 2, RETENTION).unwrap();
        assert!(store.restore(backup.clone(), 3).is_err());
        store.purge("s", 4, RETENTION).unwrap();
        let restored = store.restore(backup.clone(), 5).unwrap();
        assert_eq!(restored, backup);
    }

    #[test]
    fn a_deletion_delay_keeps_deletes_and_recovers_settling() {
        let mut store = ObjectStore::default();
        store.set_deletion_delay(2);
        store.set("s", value("x"), 0).unwrap();
        store.delete("s", 10, RETENTION).unwrap();
        store.sweep(11);
        let name = || "s".to_owned();
        assert_eq!(
            store.deleted("s"),
            Err(StoreError::DeletionInProgress { name: name() })
        );
        assert_eq!(store.listed_deleted().count(), 0);
        assert_eq!(
            store.purge("s", 11, RETENTION),
            Err(StoreError::BeingDeleted { name: name() })
        );
        assert_eq!(
            store.recover("s", 11),
            Err(StoreError::BeingDeleted { name: name() })
        );
        assert_eq!(
            store.set("s", value("y"), 11),
            Err(StoreError::RecreateWhileBeingDeleted { name: name() })
        );
        store.sweep(12);
        assert!(store.deleted("s").is_ok());
        store.recover("s", 12).unwrap();
        assert!(matches!(
            store.get("s", None),
            Err(StoreError::NotFound { .. })
        ));
        assert!(store.versions("s").is_empty());
        assert_eq!((store.list().count(), store.listed().count()), (1, 0));
        store.sweep(14);
        assert_eq!(store.get("s", None).unwrap().1.payload, "x");

        let backup = store.object("s").unwrap();
        store.delete("s", 20, RETENTION).unwrap();
        store.sweep(22);
        store.purge("s", 22, RETENTION).unwrap();
        assert!(matches!(
            store.restore(backup.clone(), 23),
            Err(StoreError::RestoreConflict { .. })
        ));
        assert_eq!(
            store.set("s", value("z"), 23),
            Err(StoreError::RecreateWhileBeingDeleted { name: name() })
        );
        store.sweep(24);
        store.restore(backup, 24).unwrap();
    }

    #[test]
    fn replaying_the_changes_onto_the_earlier_state_yields_the_later_one() {
        let mut store = ObjectStore::default();
        store.set("kept", value("a"), 0).unwrap();
        store.set("gone", value("x"), 0).unwrap();
        store.take_changes();
        let mut replica = store.clone();
        store.set("Kept", value("b"), 1).unwrap();
        store
            .update("kept", None, VersionUpdate::default(), |p| p.push('!'), 2)
            .unwrap();
        let backup = store.object("gone").unwrap();
        store.delete("gone", 3, RETENTION).unwrap();
        store.purge("gone", 4, RETENTION).unwrap();
        store.restore(backup, 5).unwrap();
        store.delete("kept", 6, RETENTION).unwrap();
        store.recover("kept", 7).unwrap();
        store.delete("gone", 8, RETENTION).unwrap();
        store.sweep(8 + 90 * 86_400);
        replica
            .apply_all(store.take_changes().into_iter().map(|c| ((), c)))
            .unwrap();
        assert_eq!(replica.object("kept"), store.object("kept"));
        assert_eq!(replica.versions("kept").len(), 2);
        assert!(replica.object("gone").is_err() && replica.deleted("gone").is_err());
    }

    #[test]
    fn replayed_updates_find_their_version_among_many_and_across_moves() {
        let mut store = ObjectStore::default();
        let (_, first) = store.set("s", value("v0"), 0).unwrap();
        for i in 1..1_000 {
            store.set("s", value(&format!("v{i}")), i).unwrap();
        }
        let backup = store.object("s").unwrap();
        let mut replica = ObjectStore::default();
        replica
            .apply_all(store.take_changes().into_iter().map(|c| ((), c)))
            .unwrap();
        let mark = |store: &mut ObjectStore<String>, c: char, now: i64| {
            store
                .update(
                    "s",
                    Some(&first.version),
                    VersionUpdate::default(),
                    |p| p.push(c),
                    now,
                )
                .unwrap();
        };
        // An older version updated, moved by a delete and a recover, then replaced whole.
        mark(&mut store, '!', 2_000);
        store.delete("s", 2_001, RETENTION).unwrap();
        store.recover("s", 2_002).unwrap();
        store.set("s", value("after"), 2_003).unwrap();
        store.delete("s", 2_004, RETENTION).unwrap();
        store.purge("s", 2_005, RETENTION).unwrap();
        store.restore(backup, 2_006).unwrap();
        mark(&mut store, '#', 2_007);
        replica
            .apply_all(store.take_changes().into_iter().map(|c| ((), c)))
            .unwrap();
        assert_eq!(replica.object("s"), store.object("s"));
        let versions = replica.versions("s");
        assert_eq!(versions.len(), 1_000);
        assert_eq!(versions[0].payload, "v0#");
    }

    #[test]
    fn replaying_changes_made_while_settling_yields_the_settled_state() {
        let mut store = ObjectStore::default();
        store.set_deletion_delay(60);
        store.set("recovered", value("a"), 0).unwrap();
        store.set("deleted", value("b"), 0).unwrap();
        store.set("purged", value("c"), 0).unwrap();
        store.delete("recovered", 1, RETENTION).unwrap();
        store.delete("deleted", 1, RETENTION).unwrap();
        store.delete("purged", 1, RETENTION).unwrap();
        store.sweep(61);
        store.recover("recovered", 61).unwrap();
        store.purge("purged", 61, RETENTION).unwrap();
        // Nothing has settled yet in the store that made the changes.
        assert!(store.object("recovered").is_err());
        assert!(store.set("purged", value("d"), 62).is_err());

        let mut replica = ObjectStore::default();
        replica
            .apply_all(store.take_changes().into_iter().map(|c| ((), c)))
            .unwrap();
        assert_eq!(replica.get("recovered", None).unwrap().1.payload, "a");
        assert_eq!(replica.listed_deleted().count(), 1);
        assert!(replica.deleted("deleted").is_ok());
        assert!(replica.purge("deleted", 62, RETENTION).is_ok());
        assert!(replica.set("purged", value("d"), 62).is_ok());
    }

    #[test]
    fn versions_of_a_missing_object_is_empty() {
        assert!(ObjectStore::<String>::default().versions("nope").is_empty());
    }
}
