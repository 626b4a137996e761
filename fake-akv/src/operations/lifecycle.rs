//! The soft-delete lifecycle, one rule for every kind: delete (refused on the key or secret a
//! certificate owns), recover and purge, each answered as the store settles it; a certificate's
//! key and secret follow it through all three.

use super::OpError;
use crate::certificates::store::CertificateMaterial;
use crate::keys::store::KeyMaterial;
use crate::kind::ObjectKind;
use crate::persist::Journaled;
use crate::secrets::store::SecretValue;
use crate::state::{StoreGuard, Vault};
use crate::store::{Deleted, Object, ObjectStore, Retention};

/// Whether a purge honours the vault's purge protection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purge {
    /// As a vault user: refused while purge protection holds the object.
    AsUser,
    /// As the bench's operator, who is no vault user: purge protection does not apply.
    AsOperator,
}

/// A kind of vault object: its payload, and its store in a vault.
pub trait Kind: Journaled {
    /// The kind.
    const KIND: ObjectKind;
    /// The vault's store of this kind, locked.
    fn store(vault: &Vault) -> StoreGuard<'_, Self>;
}

impl Kind for SecretValue {
    const KIND: ObjectKind = ObjectKind::Secrets;
    fn store(vault: &Vault) -> StoreGuard<'_, Self> {
        vault.secrets()
    }
}

impl Kind for KeyMaterial {
    const KIND: ObjectKind = ObjectKind::Keys;
    fn store(vault: &Vault) -> StoreGuard<'_, Self> {
        vault.keys()
    }
}

impl Kind for CertificateMaterial {
    const KIND: ObjectKind = ObjectKind::Certificates;
    fn store(vault: &Vault) -> StoreGuard<'_, Self> {
        vault.certificates()
    }
}

impl Vault {
    /// Reads the vault's store of `P` under its lock; nothing can be changed through it, so
    /// every change still goes through an operation. Never called across an `.await`.
    pub fn inspect<P: Kind, T>(&self, read: impl FnOnce(&ObjectStore<P>) -> T) -> T {
        read(&P::store(self))
    }

    /// `Delete{Secret,Key,Certificate}`: soft delete, kept for the vault's retention.
    pub fn delete<P: Kind>(&self, name: &str, now: i64) -> Result<Deleted<P>, OpError> {
        if P::KIND != ObjectKind::Certificates {
            self.refuse_managed(name, "delete", P::KIND)?;
        }
        let retention = self.retention();
        let deleted = P::store(self).delete(name, now, retention)?;
        self.follow_certificate::<P>(|vault| {
            // The key and secret exist whenever the certificate does, so these hold.
            let _: Result<_, _> = vault.secrets().delete(name, now, retention);
            let _: Result<_, _> = vault.keys().delete(name, now, retention);
        });
        Ok(deleted)
    }

    /// `RecoverDeleted{Secret,Key,Certificate}`.
    pub fn recover<P: Kind>(&self, name: &str, now: i64) -> Result<Object<P>, OpError> {
        let recovered = P::store(self).recover(name, now)?;
        self.follow_certificate::<P>(|vault| {
            let _: Result<_, _> = vault.secrets().recover(name, now);
            let _: Result<_, _> = vault.keys().recover(name, now);
        });
        Ok(recovered)
    }

    /// `PurgeDeleted{Secret,Key,Certificate}`.
    pub fn purge<P: Kind>(&self, name: &str, now: i64, purge: Purge) -> Result<(), OpError> {
        let vaults = self.retention();
        let retention = Retention {
            purge_protection: vaults.purge_protection && purge == Purge::AsUser,
            ..vaults
        };
        P::store(self).purge(name, now, retention)?;
        self.follow_certificate::<P>(|vault| {
            let _: Result<_, _> = vault.secrets().purge(name, now, retention);
            let _: Result<_, _> = vault.keys().purge(name, now, retention);
        });
        Ok(())
    }

    /// Runs `follow` when `P` is certificates: what befalls a certificate befalls its key and
    /// secret. Called with no store locked (the certificate lock is taken first, never after).
    fn follow_certificate<P: Kind>(&self, follow: impl FnOnce(&Self)) {
        if P::KIND == ObjectKind::Certificates {
            follow(self);
        }
    }
}
