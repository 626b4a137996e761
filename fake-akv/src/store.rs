//! A vault's objects of one kind (secrets or keys): versions, common attributes, and the
//! soft-delete state machine. Generic over what a version holds (`P`: a secret's value, a
//! key's public material).
//!
//! No serde, no HTTP. Time comes in as Unix seconds from the caller's `Clock`. Names are
//! case-insensitive (MicrosoftDocs `about-keys-secrets-certificates.md`: "object identifiers
//! are case-insensitive"), so entries are keyed by the lower-cased name and keep the spelling
//! they were created with.
//!
//! States of a name: absent → live (one or more versions) → deleted (recoverable until
//! `scheduled_purge_date`) → recovered (live again) or purged (absent). Deletion takes effect at
//! once: the fake has no "being deleted" window.

use std::collections::BTreeMap;

use uuid::Uuid;

/// Tags of a version: Key Vault keeps them per version.
pub type Tags = BTreeMap<String, String>;

/// An object: its name and versions, oldest first (the last one is "latest").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object<P> {
    /// The name as first created.
    pub name: String,
    /// Owned, never shared with readers (they get the name and one version), so a new version
    /// is an amortised O(1) push however many versions exist and however many reads run.
    versions: Vec<Version<P>>,
}

/// One immutable payload with its mutable attributes.
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
}

impl<P> Object<P> {
    /// An object restored from a backup. `None` when `versions` is empty.
    #[must_use]
    pub fn from_versions(name: String, versions: Vec<Version<P>>) -> Option<Self> {
        (!versions.is_empty()).then_some(Self { name, versions })
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
    pub fn versions(&self) -> &[Version<P>] {
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
    /// Changes made since the last [`ObjectStore::take_changes`].
    changes: Vec<Change<P>>,
}

impl<P> Default for ObjectStore<P> {
    fn default() -> Self {
        Self {
            live: BTreeMap::new(),
            deleted: BTreeMap::new(),
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
            changes: Vec::new(),
        }
    }

    /// The changes made since the last call, oldest first.
    pub fn take_changes(&mut self) -> Vec<Change<P>> {
        std::mem::take(&mut self.changes)
    }

    /// Replays a change another store made (journal recovery). Replaying the changes of a
    /// store, in order, onto a copy of its earlier state yields its later state.
    pub fn apply(&mut self, change: Change<P>) -> Result<(), StoreError> {
        match change {
            Change::Version { name, version } => {
                let k = key(&name);
                let object = match self.deleted.get_mut(&k) {
                    Some(deleted) => &mut deleted.object,
                    None => self.live.entry(k).or_insert_with(|| Object {
                        name,
                        versions: Vec::new(),
                    }),
                };
                match object
                    .versions
                    .iter_mut()
                    .rev()
                    .find(|v| v.version == version.version)
                {
                    Some(existing) => *existing = version,
                    None => object.versions.push(version),
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
            Change::Purged { name } => {
                self.deleted.remove(&key(&name));
            }
            Change::Restored { object } => {
                self.live.insert(key(&object.name), object);
            }
        }
        Ok(())
    }

    /// Forgets deleted objects whose purge date has passed.
    pub fn sweep(&mut self, now: i64) {
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

    /// Adds a version (creating the object on first use) and returns the object's name and
    /// the new version.
    pub fn set(
        &mut self,
        name: &str,
        new: NewVersion<P>,
        now: i64,
    ) -> Result<(String, Version<P>), StoreError> {
        self.sweep(now);
        let k = key(name);
        if self.deleted.contains_key(&k) {
            return Err(StoreError::DeletedButRecoverable {
                name: name.to_owned(),
            });
        }
        let version = Version {
            version: new_version_id(),
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
            versions: Vec::new(),
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
        let object = self
            .live
            .get(&key(name))
            .ok_or_else(|| not_found(name, version))?;
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
        let object = self
            .live
            .get_mut(&key(name))
            .ok_or_else(|| not_found(name, version))?;
        let index = match version {
            None => object.versions.len() - 1,
            Some(v) => object
                .versions
                .iter()
                .position(|s| s.version == v)
                .ok_or_else(|| not_found(name, Some(v)))?,
        };
        let target = &mut object.versions[index];
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

    /// Live objects in name order (Key Vault lists lexicographically, §2.5).
    pub fn list(&self) -> impl Iterator<Item = &Object<P>> {
        self.live.values()
    }

    /// Versions of a live object, oldest first; empty when there is no such object (Key Vault
    /// answers 200 with an empty page, `GetSecretVersionsNonExisting.json`).
    #[must_use]
    pub fn versions(&self, name: &str) -> Vec<Version<P>> {
        self.live
            .get(&key(name))
            .map(|s| s.versions.clone())
            .unwrap_or_default()
    }

    /// Soft-deletes an object with all its versions.
    pub fn delete(
        &mut self,
        name: &str,
        now: i64,
        retention: Retention,
    ) -> Result<Deleted<P>, StoreError> {
        self.sweep(now);
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
        self.deleted.insert(k, deleted.clone());
        Ok(deleted)
    }

    /// A soft-deleted object.
    pub fn deleted(&self, name: &str) -> Result<Deleted<P>, StoreError> {
        self.deleted
            .get(&key(name))
            .cloned()
            .ok_or_else(|| not_found(name, None))
    }

    /// Soft-deleted objects in name order.
    pub fn list_deleted(&self) -> impl Iterator<Item = &Deleted<P>> {
        self.deleted.values()
    }

    /// Brings a soft-deleted object back.
    pub fn recover(&mut self, name: &str, now: i64) -> Result<Object<P>, StoreError> {
        self.sweep(now);
        let k = key(name);
        let deleted = self
            .deleted
            .remove(&k)
            .ok_or_else(|| not_found(name, None))?;
        self.changes.push(Change::Recovered {
            name: deleted.object.name.clone(),
        });
        self.live.insert(k, deleted.object.clone());
        Ok(deleted.object)
    }

    /// Removes a soft-deleted object for good.
    pub fn purge(&mut self, name: &str, now: i64, retention: Retention) -> Result<(), StoreError> {
        self.sweep(now);
        let k = key(name);
        if !self.deleted.contains_key(&k) {
            return Err(not_found(name, None));
        }
        if retention.purge_protection {
            return Err(StoreError::PurgeProtected);
        }
        if let Some(purged) = self.deleted.remove(&k) {
            self.changes.push(Change::Purged {
                name: purged.object.name,
            });
        }
        Ok(())
    }

    /// Restores a backed-up object under its own name, versions and all.
    pub fn restore(&mut self, object: Object<P>, now: i64) -> Result<Object<P>, StoreError> {
        self.sweep(now);
        let k = key(&object.name);
        if self.live.contains_key(&k) || self.deleted.contains_key(&k) {
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

    /// The live object with all versions (for backup).
    pub fn object(&self, name: &str) -> Result<Object<P>, StoreError> {
        self.live
            .get(&key(name))
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
        for change in store.take_changes() {
            replica.apply(change).unwrap();
        }
        assert_eq!(replica.object("kept"), store.object("kept"));
        assert_eq!(replica.versions("kept").len(), 2);
        assert!(replica.object("gone").is_err() && replica.deleted("gone").is_err());
    }

    #[test]
    fn versions_of_a_missing_object_is_empty() {
        assert!(ObjectStore::<String>::default().versions("nope").is_empty());
    }
}
