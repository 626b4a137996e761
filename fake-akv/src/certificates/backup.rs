//! The certificate backup blob: the certificate with all its versions plus its managed secret
//! and key, sealed like a secret's blob ([`crate::secrets::backup`]) behind a magic of its own.
//! The document reuses the state file's object types ([`crate::persist`]).

use serde::{Deserialize, Serialize};

use super::store::Certificate;
use crate::keys::store::Key;
use crate::persist::{self, CertificateState, KeyState, ObjectState, SecretState};
use crate::secrets::backup::BackupKey;
use crate::secrets::store::Secret;
use crate::store::ObjectStore;

const MAGIC: &[u8] = b"\x29FakeAkvCertificateBackupV1";

/// What a certificate backup holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateBackup {
    /// The certificate.
    pub certificate: Certificate,
    /// Its managed secret.
    pub secret: Option<Secret>,
    /// Its managed key.
    pub key: Option<Key>,
}

#[derive(Serialize, Deserialize)]
struct BackupV1 {
    certificate: Vec<ObjectState<CertificateState>>,
    secret: Vec<ObjectState<SecretState>>,
    key: Vec<ObjectState<KeyState>>,
}

fn one<P: Clone, S>(object: Option<&crate::store::Object<P>>) -> Vec<ObjectState<S>>
where
    S: for<'a> From<&'a P>,
{
    let store = ObjectStore::from_parts(object.into_iter().cloned().collect(), Vec::new());
    persist::capture(&store)
}

fn back<P: Clone + From<S>, S>(states: Vec<ObjectState<S>>) -> Option<crate::store::Object<P>> {
    let name = states.first()?.name.clone();
    persist::rebuild::<P, S>(states).ok()?.object(&name).ok()
}

impl CertificateBackup {
    /// The sealed blob.
    #[must_use]
    pub fn seal(&self, key: &BackupKey) -> String {
        let doc = BackupV1 {
            certificate: one(Some(&self.certificate)),
            secret: one(self.secret.as_ref()),
            key: one(self.key.as_ref()),
        };
        key.seal_document(
            MAGIC,
            &serde_json::to_vec(&doc).expect("backup document serialises"),
        )
    }

    /// Opens a blob; `None` for anything not a certificate blob sealed by this key.
    #[must_use]
    pub fn open(key: &BackupKey, blob: &str) -> Option<Self> {
        let doc: BackupV1 = serde_json::from_slice(&key.open_document(MAGIC, blob)?).ok()?;
        Some(Self {
            certificate: back(doc.certificate)?,
            secret: back(doc.secret),
            key: back(doc.key),
        })
    }
}
