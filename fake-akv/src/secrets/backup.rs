//! The backup blob: opaque to clients, integrity-protected so that a tampered or foreign blob
//! is refused like Key Vault refuses garbage (`Malformed backup blob`).
//!
//! Real blobs are base64url of `0x29` + `AzureKeyVaultSecretBackupV1.microsoft.com` + a JWE
//! (§2.5). Ours are base64url of a magic prefix, a versioned JSON document and an HMAC-SHA256
//! over both with a per-process key: restorable into any vault of the same process, as real
//! backups restore within one geography.

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::store::{Secret, SecretValue, SecretVersion};

const MAGIC: &[u8] = b"\x29FakeAkvSecretBackupV1";
const TAG_LEN: usize = 32;

/// The per-process key the blobs are sealed with.
#[derive(Clone)]
pub struct BackupKey([u8; 32]);

impl std::fmt::Debug for BackupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BackupKey(..)")
    }
}

impl BackupKey {
    /// A random key.
    #[must_use]
    pub fn random() -> Self {
        Self(rand::random())
    }

    /// The key's bytes, for a persisted snapshot (blobs stay restorable after a restart).
    #[must_use]
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// A key from [`BackupKey::to_bytes`].
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }

    /// Seals a secret with all its versions.
    #[must_use]
    pub fn seal(&self, secret: &Secret) -> String {
        let doc = BackupV1 {
            name: secret.name.clone(),
            versions: secret.versions().iter().map(VersionV1::from).collect(),
        };
        self.seal_document(
            MAGIC,
            &serde_json::to_vec(&doc).expect("backup document serialises"),
        )
    }

    /// Opens a blob; `None` for anything not sealed by this key.
    #[must_use]
    pub fn open(&self, blob: &str) -> Option<Secret> {
        let doc: BackupV1 = serde_json::from_slice(&self.open_document(MAGIC, blob)?).ok()?;
        Secret::from_versions(
            doc.name,
            doc.versions.into_iter().map(SecretVersion::from).collect(),
        )
    }

    /// Seals `doc` behind `magic` (one magic per object kind, so a secret's blob never
    /// restores as a certificate).
    pub(crate) fn seal_document(&self, magic: &[u8], doc: &[u8]) -> String {
        let mut bytes = magic.to_vec();
        bytes.extend(doc);
        let mut mac = self.mac();
        mac.update(&bytes);
        bytes.extend(mac.finalize().into_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The document sealed behind `magic` by this key, if `blob` is one.
    pub(crate) fn open_document(&self, magic: &[u8], blob: &str) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD
            .decode(blob.trim_end_matches('='))
            .or_else(|_| URL_SAFE.decode(blob))
            .ok()?;
        if bytes.len() < magic.len() + TAG_LEN || !bytes.starts_with(magic) {
            return None;
        }
        let (signed, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        let mut mac = self.mac();
        mac.update(signed);
        mac.verify_slice(tag).ok()?;
        Some(signed[magic.len()..].to_vec())
    }
}

#[derive(Serialize, Deserialize)]
struct BackupV1 {
    name: String,
    versions: Vec<VersionV1>,
}

#[derive(Serialize, Deserialize)]
struct VersionV1 {
    version: String,
    value: String,
    content_type: Option<String>,
    tags: Option<std::collections::BTreeMap<String, String>>,
    enabled: bool,
    not_before: Option<i64>,
    expires: Option<i64>,
    created: i64,
    updated: i64,
}

impl From<&SecretVersion> for VersionV1 {
    fn from(v: &SecretVersion) -> Self {
        Self {
            version: v.version.clone(),
            value: v.payload.value.clone(),
            content_type: v.payload.content_type.clone(),
            tags: v.tags.clone(),
            enabled: v.enabled,
            not_before: v.not_before,
            expires: v.expires,
            created: v.created,
            updated: v.updated,
        }
    }
}

impl From<VersionV1> for SecretVersion {
    fn from(v: VersionV1) -> Self {
        Self {
            version: v.version,
            payload: SecretValue {
                value: v.value,
                content_type: v.content_type,
            },
            tags: v.tags,
            enabled: v.enabled,
            not_before: v.not_before,
            expires: v.expires,
            created: v.created,
            updated: v.updated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::store::{NewSecretVersion, SecretStore};

    #[test]
    fn blobs_round_trip_and_tampering_is_detected() {
        let mut store = SecretStore::default();
        store
            .set(
                "s",
                NewSecretVersion {
                    payload: SecretValue {
                        value: "v".into(),
                        content_type: None,
                    },
                    ..NewSecretVersion::default()
                },
                1,
            )
            .unwrap();
        let secret = store.object("s").unwrap();
        let key = BackupKey::random();
        let blob = key.seal(&secret);
        assert_eq!(key.open(&blob), Some(secret));
        assert_eq!(BackupKey::random().open(&blob), None);
        let mut tampered = blob.into_bytes();
        let mid = tampered.len() / 2;
        tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
        assert_eq!(key.open(&String::from_utf8(tampered).unwrap()), None);
        assert_eq!(key.open("not a blob"), None);
    }
}
